"""Parameters between ntk.h's flat layout and neural-tangents' structure.

ntk.h (ntk_layers_describe): the parameterised layers in list order, branches left to right,
each W then b (b only with a bias parameter):
    Dense W (C_out, C_in),           b (C_out)
    Conv  W (C_out, fh, fw, C_in),   b (C_out)        (a 1-D conv: fh = 1, fw = the length)
neural-tangents (stax): per layer (W, b), b = None without a bias parameter:
    Dense W (C_in, C_out),           b shaped like the output with 1s but the channel axis
    Conv  W HWIO (fh, fw, C_in, C_out) (1-D: WIO (fw, C_in, C_out)), b (1, ..., 1, C_out)
The values are the same numbers in both (raw N(0, 1) draws in the 'ntk' parameterisation, the
actual weights in 'standard'); only the axes move."""
import numpy as np


def dense_to_nt(flat, c_in, c_out, has_bias, ndim):
    """flat: this layer's c_out·c_in (+ c_out) values; ndim: of the layer's input (batch incl.)"""
    w = np.array(flat[:c_out * c_in], dtype=np.float64).reshape(c_out, c_in).T.copy()
    b = None
    if has_bias:
        b = np.array(flat[c_out * c_in:c_out * c_in + c_out], dtype=np.float64)
        b = b.reshape((1,) * (ndim - 1) + (c_out,))
    return (w, b)


def dense_from_nt(params, c_in, c_out, has_bias, where):
    w, b = _pair(params, where)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (c_in, c_out):
        raise ValueError("%s: W has shape %s, expected (in, out) = %s" % (where, w.shape,
                                                                          (c_in, c_out)))
    parts = [w.T.ravel()]
    parts += _bias(b, c_out, has_bias, where)
    return np.concatenate(parts)


def conv_to_nt(flat, c_out, fh, fw, c_in, has_bias, ndim):
    """fh = 1 and ndim = 3 for a 1-D conv (W comes out WIO)"""
    n = c_out * fh * fw * c_in
    w = np.array(flat[:n], dtype=np.float64).reshape(c_out, fh, fw, c_in)
    w = np.transpose(w, (1, 2, 3, 0))  # HWIO
    if ndim == 3:
        w = w[0]
    w = np.ascontiguousarray(w)
    b = None
    if has_bias:
        b = np.array(flat[n:n + c_out], dtype=np.float64).reshape((1,) * (ndim - 1) + (c_out,))
    return (w, b)


def conv_from_nt(params, c_out, fh, fw, c_in, has_bias, ndim, where):
    w, b = _pair(params, where)
    w = np.asarray(w, dtype=np.float64)
    want = (fw, c_in, c_out) if ndim == 3 else (fh, fw, c_in, c_out)
    if w.shape != want:
        raise ValueError("%s: W has shape %s, expected %s %s" % (
            where, w.shape, "WIO" if ndim == 3 else "HWIO", want))
    if ndim == 3:
        w = w[None]
    parts = [np.transpose(w, (3, 0, 1, 2)).ravel()]
    parts += _bias(b, c_out, has_bias, where)
    return np.concatenate(parts)


def _pair(params, where):
    if not isinstance(params, (tuple, list)) or len(params) != 2:
        raise ValueError("%s: expected (W, b), got %r" % (where, type(params).__name__))
    return params


def _bias(b, c_out, has_bias, where):
    if not has_bias:
        if b is not None:
            raise ValueError("%s: this layer has no bias parameter (b_std=None), got b" % where)
        return []
    if b is None:
        raise ValueError("%s: this layer has a bias parameter, got b = None" % where)
    b = np.asarray(b, dtype=np.float64)
    if b.size != c_out or (b.ndim and b.shape[-1] != c_out):
        raise ValueError("%s: b has shape %s, expected %d channels" % (where, b.shape, c_out))
    return [b.ravel()]
