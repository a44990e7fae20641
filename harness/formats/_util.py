"""Shared helpers of the format encoders (vectorised torch, no loops over rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def check_matrix(dense: torch.Tensor, fmt: str) -> tuple[int, int]:
    if dense.dim() != 2:
        raise ValueError(f"{fmt}: expected a 2-D M×K weight, got shape {tuple(dense.shape)}")
    return int(dense.shape[0]), int(dense.shape[1])


def pointers(rows: torch.Tensor, n_rows: int) -> torch.Tensor:
    """CSR-style pointers (n_rows+1, int32) from the sorted row index of every stored entry."""
    import torch

    ptr = torch.zeros(n_rows + 1, dtype=torch.int64, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=n_rows), dim=0, out=ptr[1:])
    return ptr.to(torch.int32)


def stored_entries(stored: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(flat, rows, cols) int64 indices of the True entries of a 2-D map, row-major.

    One nonzero() over the flat map, then arithmetic on the (small) index list: cheaper than
    nonzero() on 2-D plus boolean-mask selects over the whole matrix."""
    cols_n = stored.shape[1]
    flat = stored.reshape(-1).nonzero().squeeze(1)
    return flat, flat // cols_n, flat % cols_n


def nonzero_blocks(dense: torch.Tensor, r: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(blocks (M/r, K/c, r, c) view, stored map (M/r, K/c): block has a non-zero)."""
    m, k = dense.shape
    blocks = dense.reshape(m // r, r, k // c, c).permute(0, 2, 1, 3)
    return blocks, (blocks != 0).any(dim=3).any(dim=2)


def blocks_to_dense(blocks: torch.Tensor) -> torch.Tensor:
    """(M/r, K/c, r, c) → (M, K)."""
    br, bc, r, c = blocks.shape
    return blocks.permute(0, 2, 1, 3).reshape(br * r, bc * c)


def block_reason(shape: tuple[int, int], block: tuple[int, int], fmt: str) -> str | None:
    r, c = block
    if r < 1 or c < 1:
        return f"{fmt} needs a positive block size, got {r}x{c}"
    m, k = shape
    if m % r or k % c:
        return f"{fmt} with {r}x{c} blocks needs M % {r} == 0 and K % {c} == 0, got M={m}, K={k}"
    return None
