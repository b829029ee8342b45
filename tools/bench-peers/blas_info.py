"""Which BLAS (and which of its kernels) a Python peer really runs on, as one
CSV-safe field: e.g. "openblas 0.3.21 pthreads SkylakeX 2 threads". Read
with threadpoolctl after the peer's libraries are loaded; without it, the
BLAS a library was built for (numpy's config) and "threadpoolctl missing"."""


def blas_description():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS (threadpoolctl missing)"
    parts = []
    for d in threadpool_info():
        if d.get("user_api") != "blas":
            continue
        bits = [d.get("internal_api", "?"), str(d.get("version") or "")]
        if d.get("threading_layer"):
            bits.append(d["threading_layer"])
        if d.get("architecture"):
            bits.append(d["architecture"])
        bits.append("%s threads" % d.get("num_threads"))
        parts.append(" ".join(b for b in bits if b))
    if not parts:
        # No BLAS that threadpoolctl knows: Debian's reference BLAS (libblas.so.3).
        parts.append("reference BLAS (netlib) 1 thread")
    return " + ".join(parts).replace(",", ";")
