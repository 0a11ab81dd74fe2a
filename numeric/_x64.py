"""The numeric layer's single switch for float64 in JAX (float32 stays an explicit option).

Process-wide on purpose (documented on the docs' first page and in the README): JAX's scoped
``jax.enable_x64`` is thread-local, so Dask worker threads and kernels returned to the user
and called outside the scope would compute in float32 (``tests/test_reliability.py`` states
this behaviour).
"""

import jax

jax.config.update("jax_enable_x64", True)
