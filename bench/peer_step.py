"""One peer's side of bench/peers.py: a workload trained by PyTorch, JAX or TensorFlow.

Runs in a fresh process (bench/peers.py starts it pinned to its cores with its
thread settings) and prints one JSON line of the same form as dlc's side
(bench/train_steps.cpp):

    {"system": ..., "loop_s": ..., "steps": N, "step_s_median": ..., "peak_rss_mib": ...,
     "foreign_cores": ..., "loss": ..., "version": ...}

The workloads are the math of examples/mnist_cnn.dl and examples/mnist_softmax.dl, on
the bundled digits (examples/data/mnist-10k, all 8,000 training images):

- cnn: NHWC digits, conv 5x5 1->32 (same padding) + bias, relu, 2x2 max pool, conv 5x5
  32->64 + bias, relu, pool, flatten (H, W, C order), dense 3136->1024 + bias, relu,
  dropout 0.5, dense 1024->10 + bias; mean softmax cross-entropy of class ids; the
  accuracy metric; Adam(1e-4, 0.9, 0.999, 1e-8); batch 50.
- softmax: dense 784->10 + bias from zeros, softmax cross-entropy, accuracy, SGD 0.5,
  batch 100.
- mlp: 784 -> LAYERS x 64 (relu) -> 10, Adam(1e-3), batch 64 (the compile sweep:
  --compile-only times JAX's jit of the whole train step, cold).
- mlp-large: 784-8192-8192-10 (relu), Adam(1e-3), batch 64.

Each step, like dlc's trainer: a batch gathered from a per-epoch permutation of the
training set (NumPy, seeded), the train step (forward, gradients, optimizer update,
the accuracy), and the loss read back to the host. The timed loop is steps W+1 to
W+N after W warm-up steps (which pay for compiling, tracing, caches). Each system at
its best as far as this script knows it:

- torch: eager, channels_last weights and activations, Adam(fused=True) (falling
  back to foreach=True, said in "note", where the installed version has no fused CPU
  Adam), SGD likewise.
- torch-compile: the same with the loss function compiled by torch.compile (inductor).
- jax: jax.jit of the whole train step (forward, grad, Adam), params and optimizer
  state donated.
- tf: tf.function of the whole train step, Adam through the fused ResourceApplyAdam
  kernel, SGD through ResourceApplyGradientDescent.

Not a test.
"""
import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data", "mnist-10k")
BATCH = {"cnn": 50, "softmax": 100, "mlp": 64, "mlp-large": 64}
LR = {"cnn": 1e-4, "softmax": 0.5, "mlp": 1e-3, "mlp-large": 1e-3}
B1, B2, EPS = 0.9, 0.999, 1e-8


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_digits(workload):
    """The training images (NHWC for the CNN, flat otherwise) in [0, 1] and their labels."""
    import numpy as np
    x = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255
    y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int32)
    x = x.reshape(-1, 28, 28, 1) if workload == "cnn" else x.reshape(-1, 784)
    return np.ascontiguousarray(x), y


def layer_sizes(workload, layers):
    if workload == "mlp":
        return [784] + [64] * layers + [10]
    return [784, 8192, 8192, 10]


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def machine_busy_s():
    """CPU seconds every CPU spent busy or stolen (user nice system irq softirq steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def self_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def blas_libraries():
    """The BLAS libraries this process mapped (the check that Debian's PyTorch runs OpenBLAS)."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if "blas" in os.path.basename(path).lower():
                found.add(os.path.realpath(path))
    return sorted(found)


# ----------------------------------------------------------------------------- PyTorch

def torch_setup(args, compiled):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)
    note = []
    # channels_last unless --nchw (Debian's 1.13 has no oneDNN: NCHW is its faster layout).
    cl = torch.contiguous_format if args.nchw else torch.channels_last
    if args.workload == "cnn":
        note.append("NCHW" if args.nchw else "channels_last")

    def trunc(shape):
        return nn.init.trunc_normal_(torch.empty(shape), std=0.1, a=-0.2, b=0.2)

    if args.workload == "cnn":
        params = [trunc((32, 1, 5, 5)).contiguous(memory_format=cl), torch.full((32,), 0.1),
                  trunc((64, 32, 5, 5)).contiguous(memory_format=cl), torch.full((64,), 0.1),
                  trunc((1024, 3136)), torch.full((1024,), 0.1),
                  trunc((10, 1024)), torch.full((10,), 0.1)]

        def loss_fn(x, y):
            w1, b1, w2, b2, w3, b3, w4, b4 = params
            h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=2)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=2)), 2)
            # NHWC flatten (dlc's order; a view of a channels_last activation). With
            # --nchw, W3's rows are in C, H, W order instead: the same math, permuted.
            h = h.reshape(h.shape[0], -1) if args.nchw else h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
            h = F.dropout(F.relu(F.linear(h, w3, b3)), 0.5, True)
            logits = F.linear(h, w4, b4)
            return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()

        def to_input(xb):  # NHWC numpy -> NCHW view with channels_last strides
            return torch.from_numpy(xb).permute(0, 3, 1, 2).contiguous(memory_format=cl)
    elif args.workload == "softmax":
        params = [torch.zeros(10, 784), torch.zeros(10)]

        def loss_fn(x, y):
            logits = F.linear(x, params[0], params[1])
            return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().mean()

        to_input = torch.from_numpy
    else:
        sizes = layer_sizes(args.workload, args.layers)
        params = []
        for i, o in zip(sizes, sizes[1:]):
            params += [trunc((o, i)), torch.full((o,), 0.1)]

        def loss_fn(x, y):
            h = x
            for i in range(0, len(params), 2):
                h = F.linear(h, params[i], params[i + 1])
                if i + 2 < len(params):
                    h = F.relu(h)
            return F.cross_entropy(h, y), (h.argmax(1) == y).float().mean()

        to_input = torch.from_numpy
    for p in params:
        p.requires_grad_(True)
    lr = LR[args.workload]
    make = (lambda **kw: torch.optim.SGD(params, lr=lr, **kw)) if args.workload == "softmax" else \
        (lambda **kw: torch.optim.Adam(params, lr=lr, betas=(B1, B2), eps=EPS, **kw))
    try:
        opt = make(fused=True)
        # Older versions accept the flag but fail at the first step on CPU tensors.
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
        with torch.no_grad():
            for p in params:
                p.grad = None
        opt = make(fused=True)
        note.append("fused optimizer")
    except (RuntimeError, TypeError, ValueError) as e:
        opt = make(foreach=True)
        note.append("foreach optimizer (no fused CPU optimizer: %s)" % str(e).splitlines()[0][:80])
    if compiled:
        loss_fn = torch.compile(loss_fn)
        note.append("torch.compile(inductor) of the loss")

    def step(xb, yb):
        x, y = to_input(xb), torch.from_numpy(yb).long()
        opt.zero_grad(set_to_none=True)
        loss, acc = loss_fn(x, y)
        loss.backward()
        opt.step()
        return loss.item()

    return step, "torch " + torch.__version__, note


# ----------------------------------------------------------------------------- JAX

def jax_model(args):
    """(init params, loss function) of the workload in jax.numpy."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    key = jax.random.PRNGKey(0)

    def trunc(k, shape):
        return 0.1 * jax.random.truncated_normal(k, -2.0, 2.0, shape, jnp.float32)

    def xent(logits, y):
        lse = jax.nn.logsumexp(logits, axis=1)
        picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
        return jnp.mean(lse - picked), jnp.mean((jnp.argmax(logits, 1) == y).astype(jnp.float32))

    if args.workload == "cnn":
        ks = jax.random.split(key, 4)
        params = [trunc(ks[0], (5, 5, 1, 32)), jnp.full((32,), 0.1, jnp.float32), trunc(ks[1], (5, 5, 32, 64)),
                  jnp.full((64,), 0.1, jnp.float32), trunc(ks[2], (3136, 1024)), jnp.full((1024,), 0.1, jnp.float32),
                  trunc(ks[3], (1024, 10)), jnp.full((10,), 0.1, jnp.float32)]

        def block(h, w, b):
            h = lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + b)
            return lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

        def loss_fn(p, x, y, k):
            h = block(block(x, p[0], p[1]), p[2], p[3])
            f = jax.nn.relu(h.reshape(h.shape[0], -1) @ p[4] + p[5])
            keep = jax.random.bernoulli(k, 0.5, f.shape)
            f = jnp.where(keep, f / 0.5, 0.0)
            return xent(f @ p[6] + p[7], y)
    elif args.workload == "softmax":
        params = [jnp.zeros((784, 10), jnp.float32), jnp.zeros((10,), jnp.float32)]

        def loss_fn(p, x, y, k):
            return xent(x @ p[0] + p[1], y)
    else:
        sizes = layer_sizes(args.workload, args.layers)
        ks = jax.random.split(key, len(sizes))
        params = []
        for k, i, o in zip(ks, sizes, sizes[1:]):
            params += [trunc(k, (i, o)), jnp.full((o,), 0.1, jnp.float32)]

        def loss_fn(p, x, y, k):
            h = x
            for i in range(0, len(p), 2):
                h = h @ p[i] + p[i + 1]
                if i + 2 < len(p):
                    h = jax.nn.relu(h)
            return xent(h, y)
    return params, loss_fn


def jax_setup(args):
    import jax
    import jax.numpy as jnp
    params, loss_fn = jax_model(args)
    lr = LR[args.workload]
    base = jax.random.PRNGKey(1)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    if args.workload == "softmax":
        def train_step(p, x, y, t):
            (loss, acc), g = grad_fn(p, x, y, None)
            return [a - lr * b for a, b in zip(p, g)], loss, acc
        state = [params]
    else:
        def train_step(p, m, v, x, y, t):
            (loss, acc), g = grad_fn(p, x, y, jax.random.fold_in(base, t))
            m = [B1 * a + (1 - B1) * b for a, b in zip(m, g)]
            v = [B2 * a + (1 - B2) * b * b for a, b in zip(v, g)]
            tf = t.astype(jnp.float32)
            lr_t = lr * jnp.sqrt(1 - B2 ** tf) / (1 - B1 ** tf)
            p = [a - lr_t * mm / (jnp.sqrt(vv) + EPS) for a, mm, vv in zip(p, m, v)]
            return p, m, v, loss, acc
        zeros = [jnp.zeros_like(a) for a in params]
        state = [params, zeros, [jnp.zeros_like(a) for a in params]]
    n_state = len(state)
    jitted = jax.jit(train_step, donate_argnums=tuple(range(n_state)))
    note = ["jax.jit of the whole step, state donated"]
    if args.compile_only:
        import numpy as np
        b = BATCH[args.workload]
        x = np.zeros((b, 28, 28, 1) if args.workload == "cnn" else (b, 784), np.float32)
        y = np.zeros((BATCH[args.workload],), np.int32)
        start = time.perf_counter()
        jitted.lower(*state, x, y, jnp.int32(1)).compile()
        return time.perf_counter() - start, "jax " + jax.__version__, note
    counter = [0]

    def step(xb, yb):
        counter[0] += 1
        out = jitted(*state, xb, yb, jnp.int32(counter[0]))
        state[:] = out[:n_state]
        return float(out[n_state])

    return step, "jax " + jax.__version__, note


# ----------------------------------------------------------------------------- TensorFlow

def tf_setup(args):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    tf.random.set_seed(0)

    def trunc(shape):
        return tf.Variable(tf.random.truncated_normal(shape, stddev=0.1))

    def full(n, v=0.1):
        return tf.Variable(tf.fill([n], v))

    def xent(logits, y):
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32))
        return loss, acc

    if args.workload == "cnn":
        params = [trunc([5, 5, 1, 32]), full(32), trunc([5, 5, 32, 64]), full(64),
                  trunc([3136, 1024]), full(1024), trunc([1024, 10]), full(10)]

        def loss_fn(x, y):
            p = params
            h = x
            for w, b in ((p[0], p[1]), (p[2], p[3])):
                h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w, 1, "SAME"), b))
                h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            f = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), p[4]) + p[5])
            f = tf.nn.dropout(f, rate=0.5)
            return xent(tf.matmul(f, p[6]) + p[7], y)
    elif args.workload == "softmax":
        params = [tf.Variable(tf.zeros([784, 10])), full(10, 0.0)]

        def loss_fn(x, y):
            return xent(tf.matmul(x, params[0]) + params[1], y)
    else:
        sizes = layer_sizes(args.workload, args.layers)
        params = []
        for i, o in zip(sizes, sizes[1:]):
            params += [trunc([i, o]), full(o)]

        def loss_fn(x, y):
            h = x
            for i in range(0, len(params), 2):
                h = tf.matmul(h, params[i]) + params[i + 1]
                if i + 2 < len(params):
                    h = tf.nn.relu(h)
            return xent(h, y)

    lr = LR[args.workload]
    slots = [(tf.Variable(tf.zeros_like(p)), tf.Variable(tf.zeros_like(p))) for p in params]

    @tf.function
    def train_step(x, y, t):
        with tf.GradientTape() as tape:
            loss, acc = loss_fn(x, y)
        grads = tape.gradient(loss, params)
        if args.workload == "softmax":
            for p, g in zip(params, grads):
                tf.raw_ops.ResourceApplyGradientDescent(var=p.handle, alpha=tf.constant(lr), delta=g)
        else:
            b1p, b2p = tf.pow(B1, t), tf.pow(B2, t)
            for p, g, (m, v) in zip(params, grads, slots):
                tf.raw_ops.ResourceApplyAdam(var=p.handle, m=m.handle, v=v.handle, beta1_power=b1p,
                                             beta2_power=b2p, lr=tf.constant(lr), beta1=tf.constant(B1),
                                             beta2=tf.constant(B2), epsilon=tf.constant(EPS), grad=g)
        return loss, acc

    counter = [0]

    def step(xb, yb):
        counter[0] += 1
        loss, _ = train_step(xb, yb, tf.constant(float(counter[0])))
        return float(loss)

    return step, "tensorflow " + tf.__version__, ["tf.function of the whole step, ResourceApply* optimizer"]


# -----------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", required=True, choices=["torch", "torch-compile", "jax", "tf"])
    p.add_argument("--workload", required=True, choices=sorted(BATCH))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--layers", type=int, default=8, help="hidden layers of the mlp workload")
    p.add_argument("--compile-only", action="store_true", help="jax: time jit's compile of the step")
    p.add_argument("--nchw", action="store_true", help="torch: NCHW tensors instead of channels_last")
    args = p.parse_args()
    if args.warmup < 1 or args.steps < 1:
        p.error("--warmup and --steps must be at least 1")
    result = {"system": args.system, "workload": args.workload, "threads": args.threads}
    if args.compile_only:
        if args.system != "jax":
            p.error("--compile-only is for jax")
        seconds, version, note = jax_setup(args)
        result.update(compile_s=seconds, peak_rss_mib=peak_rss_mib(), version=version, note=note)
        print(json.dumps(result))
        return
    import numpy as np
    setup_start = time.perf_counter()
    if args.system.startswith("torch"):
        step, version, note = torch_setup(args, args.system == "torch-compile")
    elif args.system == "jax":
        step, version, note = jax_setup(args)
    else:
        step, version, note = tf_setup(args)
    x, y = load_digits(args.workload)
    batch = BATCH[args.workload]
    rng = np.random.default_rng(0)
    order, pos = rng.permutation(len(x)), 0
    total = args.warmup + args.steps
    ends = []
    busy0 = self0 = 0.0
    loss = 0.0
    for i in range(1, total + 1):
        if pos + batch > len(order):
            order, pos = rng.permutation(len(x)), 0
        idx = order[pos:pos + batch]
        pos += batch
        loss = step(x[idx], y[idx])
        if i >= args.warmup:
            ends.append(time.perf_counter())
            if i == args.warmup:
                busy0, self0 = machine_busy_s(), self_cpu_s()
                warm_s = ends[0] - setup_start
    foreign = (machine_busy_s() - busy0) - (self_cpu_s() - self0)
    loop = ends[-1] - ends[0]
    each = sorted(b - a for a, b in zip(ends, ends[1:]))
    result.update(warmup=args.warmup, steps=args.steps, loop_s=loop, step_s_median=each[len(each) // 2],
                  peak_rss_mib=peak_rss_mib(), foreign_cores=foreign / max(loop, 1e-9), loss=loss,
                  setup_and_warmup_s=warm_s, version=version, note=note, blas=blas_libraries())
    if not np.isfinite(loss):
        sys.exit("peer_step: the loss became %r" % loss)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
