"""numpy and PyTorch on the tutorials' micro-benchmarks (the same workloads
as inst/benchmarks/micro.R), back to back in one process, no forced gc.
   python3 micro_peers.py REPS
Prints CSV lines: bench,variant,seconds,blas  (seconds: median of REPS calls
after one warm-up call)."""
import math, os, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_info import blas_description

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
try:
    import torch
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
except ImportError:
    torch = None
blas = blas_description()


def med(f):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def out(bench, variant, secs):
    print("%s,%s,%.6g,%s" % (bench, variant, secs, blas), flush=True)


rng = np.random.default_rng(1)
# selu on 1e6 (f32, as the tutorials)
x = rng.standard_normal(10**6).astype(np.float32)
def selu_np(x, a=1.67, l=1.05): return l * np.where(x > 0, x, a * np.exp(x) - a)
out("selu_1e6", "numpy", med(lambda: selu_np(x)))
if torch:
    xt = torch.from_numpy(x)
    def selu_t(x, a=1.67, l=1.05): return l * torch.where(x > 0, x, a * torch.exp(x) - a)
    out("selu_1e6", "torch", med(lambda: selu_t(xt)))
# five nested diff of 1e5 doubles
x5 = rng.standard_normal(10**5)
out("diff5_1e5", "numpy", med(lambda: np.diff(np.diff(np.diff(np.diff(np.diff(x5)))))))
if torch:
    x5t = torch.from_numpy(x5)
    out("diff5_1e5", "torch", med(lambda: torch.diff(torch.diff(torch.diff(torch.diff(torch.diff(x5t)))))))
# Simpson: 200 functions sin(k x) exp(-x / k) on 100 sub-intervals of width 0.01, N = 512
N = 512; h = 0.01 / N
w = np.tile([2.0, 4.0], N // 2 + 1)[:N + 1]; w[0] = w[-1] = 1; w = w * h / 3
xg = np.linspace(0, 0.01, N + 1)[:, None] + np.arange(0, 0.995, 0.01)[None, :]  # 513 x 100
def simpson_stacked(xg, w):
    return np.stack([np.sum(np.sin(k * xg) * np.exp(-xg / k) * w[:, None], axis=0) for k in range(1, 201)])
K3 = np.arange(1, 201, dtype=np.float64)[None, None, :]
def simpson_broadcast(xg, w):
    X3 = xg[:, :, None]
    return np.sum(np.sin(K3 * X3) * np.exp(-X3 / K3) * w[:, None, None], axis=0).T
out("simpson_stacked", "numpy", med(lambda: simpson_stacked(xg, w)))
out("simpson_broadcast", "numpy", med(lambda: simpson_broadcast(xg, w)))
if torch:
    xgt = torch.from_numpy(xg); wt = torch.from_numpy(w)
    out("simpson_stacked", "torch", med(lambda: torch.stack([torch.sum(torch.sin(k * xgt) * torch.exp(-xgt / k) * wt[:, None], 0)
                                                            for k in range(1, 201)])))
    K3t = torch.from_numpy(K3)
    out("simpson_broadcast", "torch", med(lambda: torch.sum(torch.sin(K3t * xgt[:, :, None]) * torch.exp(-xgt[:, :, None] / K3t)
                                                           * wt[:, None, None], 0).T))
# 100 steps of x = B x + solve(A, x) + norm(x) on 50-vectors
n = 50
rs = np.random.default_rng(42)
A = rs.standard_normal((n, n)) + np.eye(n) * n; B = rs.standard_normal((n, n)) / n; x0 = rs.standard_normal(n)
def loop_np(x):
    for _ in range(100): x = B @ x + np.linalg.solve(A, x) + np.linalg.norm(x)
    return x
out("loop100_n50", "numpy", med(lambda: loop_np(x0)))
if torch:
    At, Bt, x0t = torch.from_numpy(A), torch.from_numpy(B), torch.from_numpy(x0)
    def loop_t(x):
        for _ in range(100): x = Bt @ x + torch.linalg.solve(At, x) + torch.linalg.norm(x)
        return x
    out("loop100_n50", "torch", med(lambda: loop_t(x0t)))
# r-xla/benchmarks' MLP: n = 1024 samples of 10 features, ReLU layers of
# `latent` units, MSE loss, SGD; seconds per batch of one epoch (training step).
if torch:
    for (batch, latent, hidden) in [(64, 64, 0), (64, 64, 4), (64, 64, 8)]:
        g = torch.Generator().manual_seed(1)
        X = torch.randn(1024, 10, generator=g); y = torch.randn(1024, 1, generator=g)
        layers = [torch.nn.Linear(10, latent), torch.nn.ReLU()]
        for _ in range(hidden): layers += [torch.nn.Linear(latent, latent), torch.nn.ReLU()]
        layers += [torch.nn.Linear(latent, 1)]
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        def epoch():
            for s in range(0, 1024, batch):
                opt.zero_grad()
                loss = torch.mean((net(X[s:s + batch]) - y[s:s + batch]) ** 2)
                loss.backward(); opt.step()
        out("mlp_b%d_l%d_h%d" % (batch, latent, hidden), "torch", med(epoch) / (1024 // batch))
