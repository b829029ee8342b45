"""PyTorch peer: the JAX tutorial's PLN fit with autograd (eager, or the loss
under torch.jit.script).
   python3 pln_torch.py DATA_DIR ITERS DTYPE eager|script [slip|correct]
Prints one CSV line: impl,dtype,config,seconds,loss,blas"""
import math, os, sys, time
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_info import blas_description

d, iters, dt, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
slip = len(sys.argv) > 5 and sys.argv[5] == "slip"
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
dtype = torch.float32 if dt == "f32" else torch.float64
n, p = [int(v) for v in open(os.path.join(d, "dims.txt")).read().split()]
Y = torch.from_numpy(np.fromfile(os.path.join(d, "Y.bin"), dtype=np.float64).reshape(p, n).T.copy()).to(dtype)
O = torch.from_numpy(np.fromfile(os.path.join(d, "O.bin"), dtype=np.float64).reshape(p, n).T.copy()).to(dtype)
X = torch.ones((n, 1), dtype=dtype)
k = torch.clamp(Y.double(), min=1)
stir = float(torch.sum(torch.log(torch.sqrt(2 * math.pi * k)) + k * torch.log(k / math.e)))

def loss_fn(B, M, S, Om, Y, O, X, stir: float, slip: bool):
    n = Y.shape[0]; p = Y.shape[1]
    S2 = S * S
    Z = O + X @ B + M
    A = torch.exp(Z + S2 / 2)
    MOm = M if slip else M @ Om
    tr = torch.sum(MOm * M) + torch.sum(torch.sum(S2, 0) * torch.diagonal(Om))
    return -(n / 2 * torch.logdet(Om) + torch.sum(Y * Z - A + 0.5 * torch.log(S2)) - 0.5 * tr + n * p / 2 - stir)

if mode == "script":
    loss_fn = torch.jit.script(loss_fn)

def radam(g, st, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    rho_inf = 2 / (1 - b2) - 1
    st["m"] = b1 * st["m"] + (1 - b1) * g
    st["v"] = b2 * st["v"] + (1 - b2) * g * g
    st["t"] += 1
    t = st["t"]
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    mhat = st["m"] / (1 - b1**t)
    vhat = st["v"] / (1 - b2**t)
    if rho >= threshold:
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        u = r * mhat / (torch.sqrt(vhat) + eps)
    else:
        u = mhat
    return torch.clamp(-u, -0.1, 0.1)

t0 = time.perf_counter()
B = torch.zeros((1, p), dtype=dtype, requires_grad=True)
M = torch.zeros((n, p), dtype=dtype, requires_grad=True)
S = torch.ones((n, p), dtype=dtype, requires_grad=True)
sts = [dict(m=0, v=0, t=0) for _ in range(3)]
for it in range(iters):
    with torch.no_grad():
        Sigma = (M.T @ M + torch.diag(torch.sum(S * S, 0))) / n
        Om = torch.linalg.inv(Sigma)
    loss = loss_fn(B, M, S, Om, Y, O, X, stir, slip)
    gB, gM, gS = torch.autograd.grad(loss, [B, M, S])
    with torch.no_grad():
        B += radam(gB, sts[0]); M += radam(gM, sts[1]); S += radam(gS, sts[2])
secs = time.perf_counter() - t0
cfg = "%s; OPENBLAS_CORETYPE=%s; OMP_WAIT_POLICY=%s; %d threads" % (
    "torch.jit.script" if mode == "script" else "eager",
    os.environ.get("OPENBLAS_CORETYPE", "default"), os.environ.get("OMP_WAIT_POLICY", "default"),
    torch.get_num_threads())
blas = "%s; torch BLAS_INFO=%s" % (blas_description(), torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0]
                                   if "BLAS_INFO=" in torch.__config__.show() else "?")
print("pytorch,%s,%s,%.3f,%.6g,%s" % (dt, cfg, secs, float(loss), blas))
