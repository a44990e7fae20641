#!/usr/bin/env bash
# Every check that needs a CUDA GPU, batched for a short lease, most important first.
#
#   bash benchmarks/gpu_session.sh fetch          # on a machine with the package index: wheels
#                                                 # the GPU image lacks -> .whl/ (Python 3.12)
#   bash benchmarks/gpu_session.sh part1 OUTDIR   # on the GPU (≈ 9 min): environment, the gpu-
#                                                 # marked tests, the Triton kernels' targets
#   bash benchmarks/gpu_session.sh part2 OUTDIR   # on the GPU (≈ 9 min): Fig. 3 with cuSPARSE vs
#                                                 # cuBLAS, then the full Triton grid untuned
#
# The GPU image has its own torch/triton (not the project's pins) and no network: harness runs
# from the checkout (PYTHONPATH), its missing pure-Python dependencies come from .whl/. Each step
# has its own time limit so that one slow step cannot take the others' results with it; every
# log and table lands in OUTDIR (at most 8 files).
set -uo pipefail
cd "$(dirname "$0")/.."

WHEELS="optuna==5.0.0 alembic==1.20.1 colorlog==6.12.0 sqlalchemy==2.1.9 mako==1.4.3
jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1"

setup() {
    if [ -d .whl ]; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl || exit 1
        export PYTHONPATH="/tmp/site:$PWD"
    else
        export PYTHONPATH="$PWD"
    fi
    export PYTHONUNBUFFERED=1 HARNESS_CACHE_DIR=/tmp/harness-cache
}

step() {  # step SECONDS NAME COMMAND...: run with a limit, log to OUT/NAME.log, never abort
    local limit=$1 name=$2
    shift 2
    echo "== $name (limit ${limit}s): $*"
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    echo "   exit $? after $((SECONDS - t0))s; last lines:"
    tail -n 6 "$OUT/$name.log" | sed 's/^/   /'
}

case "${1:-}" in
fetch)
    mkdir -p .whl
    # shellcheck disable=SC2086
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .whl $WHEELS
    ls .whl
    exclude=$(git rev-parse --git-path info/exclude)  # the wheels travel, but stay out of git
    mkdir -p "$(dirname "$exclude")"
    grep -qxF '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >>"$exclude"
    ;;
part1)
    OUT=${2:?OUTDIR}
    mkdir -p "$OUT"
    setup
    {
        nvidia-smi --query-gpu=name,uuid,driver_version,memory.total,clocks.max.sm --format=csv
        python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda',
torch.version.cuda, 'triton', triton.__version__, torch.cuda.get_device_name())"
        python3 -c "import sys; from harness.cli.main import main; sys.exit(main(['info']))"
    } >"$OUT/env.log" 2>&1
    cat "$OUT/env.log"
    step 240 gpu_tests env HARNESS_REQUIRE_GPU=1 python3 -m pytest -q -m gpu -p no:cacheprovider tests
    step 280 triton_targets python3 benchmarks/triton_bench.py \
        --shapes 4096x4096x50,16384x16384x1,16384x16384x16,16384x16384x64 --rates 0.9 \
        --groups 32 --dtypes float16 --out "$OUT/triton_targets.json"
    ;;
part2)
    OUT=${2:?OUTDIR}
    mkdir -p "$OUT"
    setup
    step 240 fig3_cuda python3 benchmarks/fig3.py --device cuda --out "$OUT/fig3_cuda"
    step 280 triton_grid python3 benchmarks/triton_bench.py --no-tune \
        --out "$OUT/triton_grid.json"
    ;;
*)
    sed -n '2,15p' "$0"
    exit 2
    ;;
esac
