"""The JAX tutorial's PLN fit as one lax.scan (the tutorial's "scan" level):
its objective (with the trace slip), gradients by jax.grad, Sigma profiled
under stop_gradient, optax chain scale_by_radam() -> scale(-1) -> clip(0.1).
   python3 pln_jax.py OAKS_DIR N ITERS DTYPE CSV
Rows of OAKS_DIR/{counts,offsets}.csv are repeated to N rows. Appends
compile time, run time (a second, compiled call) and losses to CSV."""
import math, os, sys, time
import numpy as np

d, n, iters, dt, csv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
import jax
if dt == "f64":
    jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import optax

dtype = jnp.float32 if dt == "f32" else jnp.float64
Y0 = np.loadtxt(os.path.join(d, "counts.csv"), delimiter=",", skiprows=1)
O0 = np.log(np.loadtxt(os.path.join(d, "offsets.csv"), delimiter=",", skiprows=1))
reps = -(-n // Y0.shape[0])
Yn = np.tile(Y0, (reps, 1))[:n]
On = np.tile(O0, (reps, 1))[:n]
p = Yn.shape[1]
k = np.maximum(Yn, 1)
stir = float(np.sum(np.log(np.sqrt(2 * math.pi * k)) + k * np.log(k / math.e)))
Y = jnp.asarray(Yn, dtype); O = jnp.asarray(On, dtype); X = jnp.ones((n, 1), dtype)

def loss_fn(params, Om):
    B, M, S = params
    S2 = S * S
    Z = O + X @ B + M
    A = jnp.exp(Z + S2 / 2)
    tr = jnp.sum(M * M) + jnp.sum(jnp.sum(S2, 0) * jnp.diag(Om))  # the tutorial's slip
    logdet = jnp.linalg.slogdet(Om)[1]
    return -(n / 2 * logdet + jnp.sum(Y * Z - A + 0.5 * jnp.log(S2)) - 0.5 * tr + n * p / 2 - stir)

opt = optax.chain(optax.scale_by_radam(), optax.scale(-1.0), optax.clip(0.1))

def step(carry, _):
    params, state = carry
    B, M, S = params
    Sigma = jax.lax.stop_gradient((M.T @ M + jnp.diag(jnp.sum(S * S, 0))) / n)
    Om = jnp.linalg.inv(Sigma)
    loss, g = jax.value_and_grad(loss_fn)(params, Om)
    u, state = opt.update(g, state, params)
    return (optax.apply_updates(params, u), state), loss

@jax.jit
def fit(params):
    (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, length=iters)
    return params, losses

params = (jnp.zeros((1, p), dtype), jnp.zeros((n, p), dtype), jnp.ones((n, p), dtype))
t0 = time.perf_counter()
compiled = fit.lower(params).compile()
t1 = time.perf_counter()
out, losses = compiled(params)
losses.block_until_ready()
t2 = time.perf_counter()
out, losses = compiled(params)
losses.block_until_ready()
t3 = time.perf_counter()
plat = jax.devices()[0].platform
losses = np.asarray(losses)
with open(csv, "a") as f:
    f.write("jax,%s,compile_s,%s,%d,%.6g,info\n" % (plat, dt, n, t1 - t0))
    f.write("jax,%s,first_run_s_%d,%s,%d,%.6g,info\n" % (plat, iters, dt, n, t2 - t1))
    f.write("jax,%s,run_s_%d,%s,%d,%.6g,info\n" % (plat, iters, dt, n, t3 - t2))
    for it in sorted({0, 1, 9, 99, iters - 1}):
        if 0 <= it < iters:
            f.write("jax,%s,loss_%d,%s,%d,%.10g,info\n" % (plat, it + 1, dt, n, float(losses[it])))
print("jax (%s, %s, n = %d): compile %.3f s, %d iterations %.3f s, final loss %.8g" % (plat, dt, n, t1 - t0, iters, t3 - t2, float(losses[-1])))
