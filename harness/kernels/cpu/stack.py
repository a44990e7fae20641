"""Fixed-size arrays on the stack inside Numba kernels: accumulators that live in registers.

`stack(n, dtype)` allocates n elements with LLVM's `alloca` (n a compile-time constant: a literal
integer). Indexed only at constant offsets (loops over `range(n)` that LLVM unrolls), the array
is promoted to vector registers by LLVM's SROA pass, so an accumulator tile stays in registers
across a whole reduction. A numpy array from `np.empty` cannot: it lives on the heap, and every
update is then a load and a store that LLVM must keep because it cannot prove the output does not
alias the input rows.
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
