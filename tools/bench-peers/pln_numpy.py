"""numpy peer: the JAX tutorial's PLN fit with hand-written gradients.
   python3 pln_numpy.py DATA_DIR ITERS DTYPE [slip|correct]
Prints one CSV line: impl,dtype,config,seconds,loss,blas"""
import os, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_info import blas_description

d, iters, dt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
slip = len(sys.argv) > 4 and sys.argv[4] == "slip"
dtype = np.float32 if dt == "f32" else np.float64
n, p = [int(v) for v in open(os.path.join(d, "dims.txt")).read().split()]
Y = np.fromfile(os.path.join(d, "Y.bin"), dtype=np.float64).reshape(p, n).T.astype(dtype).copy()
O = np.fromfile(os.path.join(d, "O.bin"), dtype=np.float64).reshape(p, n).T.astype(dtype).copy()
X = np.ones((n, 1), dtype=dtype)
k = np.maximum(Y.astype(np.float64), 1)
stir = float(np.sum(np.log(np.sqrt(2 * np.pi * k)) + k * np.log(k / np.e)))

def radam(g, st, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    rho_inf = 2 / (1 - b2) - 1
    st["m"] = b1 * st["m"] + (1 - b1) * g
    st["v"] = b2 * st["v"] + (1 - b2) * g * g
    st["t"] += 1
    t = st["t"]
    rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
    mhat = st["m"] / dtype(1 - b1**t)
    vhat = st["v"] / dtype(1 - b2**t)
    if rho >= threshold:
        r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        u = dtype(r) * mhat / (np.sqrt(vhat) + dtype(eps))
    else:
        u = mhat
    return np.clip(-u, -0.1, 0.1).astype(dtype)

t0 = time.perf_counter()
B = np.zeros((1, p), dtype); M = np.zeros((n, p), dtype); S = np.ones((n, p), dtype)
sts = [dict(m=0, v=0, t=0) for _ in range(3)]
for it in range(iters):
    Sigma = (M.T @ M + np.diag(np.sum(S * S, axis=0))) / n
    Om = np.linalg.inv(Sigma)
    S2 = S * S; Z = O + X @ B + M; A = np.exp(Z + S2 / 2)
    MOm = M if slip else M @ Om
    tr = np.sum(MOm * M) + np.sum(np.sum(S2, axis=0) * np.diag(Om))
    logdet = np.linalg.slogdet(Om)[1]
    loss = -(n / 2 * logdet + np.sum(Y * Z - A + 0.5 * np.log(S2)) - 0.5 * tr + n * p / 2 - stir)
    gB = -(X.T @ (Y - A)); gM = -((Y - A) - MOm); gS = -(-A * S + 1 / S - S * np.diag(Om)[None, :])
    B = B + radam(gB, sts[0]); M = M + radam(gM, sts[1]); S = S + radam(gS, sts[2])
secs = time.perf_counter() - t0
cfg = "OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "default")
print("numpy,%s,%s,%.3f,%.6g,%s" % (dt, cfg, secs, float(loss), blas_description()))
