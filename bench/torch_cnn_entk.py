# torch.func comparison for bench/bench.c's CNN eNTK row: the Myrtle-5-style CNN (width 64,
# 28x28x1, k = 10) in float64, vmap(jacrev) per-example Jacobians computed once, contracted
# directly to the traced kernel; or ("res") bench.c's small residual CNN. usage:
# torch_cnn_entk.py [N [threads [myrtle|res]]]. Prints the wall and CPU
# seconds of that and the process's peak resident memory in MB (getrusage ru_maxrss). torch < 2.0
# (Debian bookworm's 1.13) has the same transforms in functorch.
import resource, sys, time
import torch
try:
    from torch.func import functional_call, vmap, jacrev
except ImportError:
    from functorch import vmap, jacrev
    from torch.nn.utils.stateless import functional_call
torch.set_default_dtype(torch.float64)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 128
if len(sys.argv) > 2:
    torch.set_num_threads(int(sys.argv[2]))
arch = sys.argv[3] if len(sys.argv) > 3 else "myrtle"
torch.manual_seed(0)
if arch == "myrtle":
    c = lambda i: torch.nn.Conv2d(i, 64, 3, padding=1, bias=False)
    net = torch.nn.Sequential(c(1), torch.nn.ReLU(), c(64), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
                              c(64), torch.nn.ReLU(), torch.nn.AvgPool2d(2), c(64), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10, bias=False))
else:  # "res": bench.c's CNN_RES_NET, width 32
    class Res(torch.nn.Module):
        def __init__(self):
            super().__init__()
            c = lambda: torch.nn.Conv2d(32, 32, 3, padding=1, bias=False)
            self.body = torch.nn.Sequential(torch.nn.ReLU(), c(), torch.nn.ReLU(), c())
        def forward(self, x):
            return x + self.body(x)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1, bias=False), torch.nn.AvgPool2d(2), Res(), Res(),
                              torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(32, 10, bias=False))
params = {k: v.detach() for k, v in net.named_parameters()}
x = torch.randn(N, 1, 28, 28)
f = lambda p, xi: functional_call(net, p, (xi.unsqueeze(0),)).squeeze(0)
t0, c0 = time.time(), time.process_time()
J = vmap(jacrev(f), (None, 0))(params, x)
K = sum(torch.einsum('iaP,jaP->ij', j.flatten(2), j.flatten(2)) for j in J.values()) / 10
t1, c1 = time.time(), time.process_time()
assert bool(torch.isfinite(K).all())
print(t1 - t0, c1 - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
