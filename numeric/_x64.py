"""The numeric layer's single switch for float64 in JAX (float32 stays an explicit option)."""

import jax

jax.config.update("jax_enable_x64", True)
