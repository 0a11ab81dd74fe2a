"""analytic/_cache.py: one bounded cache per artifact, keyed by what the artifact depends on."""

from trainability.analytic import ArtifactCache, family, from_expression, jax_kernels


def test_values_and_name_share_an_entry_domains_and_options_do_not():
    cache = ArtifactCache("test", maxsize=8)
    built = []

    def build(tag):
        built.append(tag)
        return tag

    a = family("additive", eps=0.1, lam=0.2)
    assert cache(a, lambda: build("a")) == "a"
    assert cache(a.with_values(eps=0.3), lambda: build("b")) == "a"  # values: same kernel
    assert cache(a, lambda: build("c"), "libm") == "c"  # an option: another artifact
    plain = from_expression(str(a.expr))  # same expression, no declared domains
    assert plain.domains != a.domains
    assert cache(plain, lambda: build("d")) == "d"
    assert built == ["a", "c", "d"] and (cache.hits, cache.misses) == (1, 3)


def test_least_recently_used_entry_is_evicted_at_maxsize():
    cache = ArtifactCache("test", maxsize=2)
    lands = [from_expression(f"x**2 + {k}*x") for k in range(1, 4)]
    for land in lands[:2]:
        cache(land, lambda: "first")
    cache(lands[0], lambda: "again")  # a hit: lands[0] becomes most recent
    cache(lands[2], lambda: "third")  # evicts lands[1]
    assert len(cache) == 2
    assert cache(lands[0], lambda: "rebuilt") == "first"
    assert cache(lands[1], lambda: "rebuilt") == "rebuilt"


def test_a_failed_build_caches_nothing():
    cache = ArtifactCache("test", maxsize=2)
    land = family("quadratic")

    def fail():
        raise TimeoutError("budget")

    try:
        cache(land, fail)
    except TimeoutError:
        pass
    assert len(cache) == 0 and cache(land, lambda: "ok") == "ok"


def test_kernels_of_grid_cells_are_one_object():
    """Cells of a hyperparameter grid differ only in values: one kernel, one jit."""
    land = family("additive", eps=0.2, lam=0.1)
    assert jax_kernels(land) is jax_kernels(land.with_values(eps=0.05))
