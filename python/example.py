"""The README's Python example: neural-tangents' README example with `import ntk` in place of
`import neural_tangents` (and numpy in place of jax.random). From a fresh clone:
    make lib
    python3 python/example.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the package next to this file

import numpy as np
import ntk as nt
from ntk import stax

init_fn, apply_fn, kernel_fn = stax.serial(
    stax.Dense(512), stax.Relu(),
    stax.Dense(512), stax.Relu(),
    stax.Dense(1)
)

rng = np.random.RandomState(1)
x1 = rng.standard_normal((10, 100))
x2 = rng.standard_normal((20, 100))

nngp = kernel_fn(x1, x2, 'nngp')              # (10, 20): the Bayesian infinite network
ntk = kernel_fn(x1, x2, 'ntk')                # (10, 20): the gradient-descent-trained one
both = kernel_fn(x1, x2, ('nngp', 'ntk'))
print("nngp", nngp.shape, "ntk", ntk.shape, "nngp[0, :3]", np.round(nngp[0, :3], 6))

# what the infinitely wide network predicts after training to convergence (t = inf)
y_train = np.sin(x1[:, :1])
predict_fn = nt.predict.gradient_descent_mse_ensemble(kernel_fn, x1, y_train, diag_reg=1e-4)
mean, cov = predict_fn(x_test=x2, get='ntk', compute_cov=True)
print("test mean[:3]", np.round(mean[:3, 0], 6), "variance[:3]", np.round(np.diag(cov)[:3], 6))

# a finite network of the same architecture: parameters in neural-tangents' structure
_, params = init_fn(0, (-1, 100))
entk = nt.empirical_ntk_fn(apply_fn)(x1, x2, params)
print("empirical NTK at width 512 vs the infinite-width NTK: relative difference %.3f"
      % (np.linalg.norm(entk - ntk) / np.linalg.norm(ntk)))
