"""LLVM features the Numba kernels need and Numba does not expose.

`stack(n, like)` — fixed-size arrays on the stack: accumulators that live in registers. It allocates n elements with LLVM's `alloca` (n a compile-time constant: a literal
integer). Indexed only at constant offsets (loops over `range(n)` that LLVM unrolls), the array
is promoted to vector registers by LLVM's SROA pass, so an accumulator tile stays in registers
across a whole reduction. A numpy array from `np.empty` cannot: it lives on the heap, and every
update is then a load and a store that LLVM must keep because it cannot prove the output does not
alias the input rows.

`prefetch(a, i, j)` — a software prefetch (llvm.prefetch, into L1) of the 256 bytes from a[i, j]
of a 2-D C-contiguous array (a prefetch never faults, so past the row's end is harmless). The panel kernel uses it for the output rows of the next-but-one
four rows it visits, whose indices the hardware prefetchers cannot guess (10–13 % faster at 4096²,
N = 50, 90 %, g = 32, one and two threads, measured interleaved on the development VM).
"""

from __future__ import annotations

from harness.kernels.cpu.cache import configure

configure()  # before numba's first decorator below creates its code generator

from llvmlite import ir  # noqa: E402
from numba import njit, types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402
from numba.np.numpy_support import carray  # noqa: E402


@intrinsic
def _alloca(typingctx, n, dtype):
    if not isinstance(n, types.IntegerLiteral):
        return None  # a runtime size would be a dynamic alloca: never promoted to registers
    count = n.literal_value
    elt = dtype.dtype

    def codegen(context, builder, sig, args):
        lty = context.get_value_type(elt)
        ptr = cgutils.alloca_once(builder, ir.ArrayType(lty, count))  # in the entry block
        return builder.bitcast(ptr, lty.as_pointer())

    return types.CPointer(elt)(n, dtype), codegen


@njit(inline="always")
def stack(n, like):
    """A 1-D array of `n` (a literal) elements of `like`'s dtype on the stack; uninitialised."""
    return carray(_alloca(n, like.dtype), (n,))  # type: ignore[call-arg]  # typingctx is numba's


PREFETCH_BYTES = 256  # one tile of 64 fp32 (32 fp64) columns


@intrinsic
def prefetch(typingctx, arr, i, j):
    def codegen(context, builder, sig, args):
        aryty, ity, jty = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        row = context.cast(builder, args[1], ity, types.intp)
        col = context.cast(builder, args[2], jty, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [row, col],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        base = builder.bitcast(ptr, i8p)
        for off in range(0, PREFETCH_BYTES, 64):  # (address, read, L1 locality, data cache)
            line = builder.gep(base, [ir.Constant(ir.IntType(64), off)])
            builder.call(fn, [line, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    if not (isinstance(arr, types.Array) and arr.ndim == 2 and isinstance(i, types.Integer)
            and isinstance(j, types.Integer)):
        return None
    return types.void(arr, i, j), codegen
