#!/usr/bin/env bash
# Packs the bundled Triton stack for a machine without network (a lent GPU host, an air-gapped runner) whose
# Python already has pytest, pytest-xdist, numpy, scipy, pyyaml, protobuf, grpcio, nvidia-ml-py, setuptools and
# wheel (the editable install builds offline), as GPU images do. `pack` runs here; `install` runs there, in
# the repository root, from the copied folder. Its steps ran by hand for the H100 session of 2026-11-25
# (tests/e2e/test_gpu.py there); as a script, `pack` has run, `install` not yet on a GPU host.
#
#   bash scripts/offline_stack.sh pack [PYTHON_VERSION] [DIR]   # default 3.12 .devstack (about 36 MB, xz)
#   bash scripts/offline_stack.sh install [DIR]                 # on the offline machine, as its python3
#
# The server comes from nvidia-pytriton 0.7.0 and perf_analyzer from tritonclient 2.51.0, as in setup.sh;
# what the plugin does not run is trimmed (other Pythons' backend stubs, the 3.13 libpython, pytriton's
# own Python code), so that the archive fits a 64 MiB transfer.
set -euo pipefail
what=${1:-}
case "$what" in
pack)
    py=${2:-3.12}; out=${3:-.devstack}
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    platforms=()
    for p in manylinux_2_35_x86_64 manylinux_2_34_x86_64 manylinux_2_28_x86_64 manylinux_2_24_x86_64 \
             manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64; do
        platforms+=(--platform "$p")
    done
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
        "${platforms[@]}" -d "$tmp/wheels" nvidia-pytriton==0.7.0 tritonclient==2.51.0 geventhttpclient gevent \
        python-rapidjson greenlet zope.event zope.interface brotli prometheus-client ruptures \
        optuna alembic sqlalchemy mako colorlog tqdm
    python3 -m pip install -q --no-deps --no-compile --target "$tmp/site" --python-version "$py" \
        --implementation cp --only-binary=:all: "${platforms[@]}" "$tmp"/wheels/*.whl
    site=$tmp/site
    rm -f "$site/bin/perf_client" "$site/bin/pytriton" "$site"/nvidia_pytriton.libs/libpython3-*.so*
    find "$site/pytriton/tritonserver/python_backend_stubs" -mindepth 1 -maxdepth 1 ! -name "$py" -exec rm -rf {} +
    find "$site/pytriton" -mindepth 1 -maxdepth 1 ! -name tritonserver ! -name __init__.py -exec rm -rf {} +
    mkdir -p "$out"
    tar -C "$tmp" -cJf "$out/stack.tar.xz" site
    ls -l "$out/stack.tar.xz"
    ;;
install)
    dir=${2:-.devstack}
    py=$(command -v python3)
    target=/tmp/pma-offline-site
    [ -d "$target" ] || { mkdir -p "$target" && tar -xJf "$dir/stack.tar.xz" -C "$target" --strip-components=1; }
    purelib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$target" > "$purelib/zz_pma_offline_stack.pth"  # after the image's own packages on sys.path
    cp "$target/bin/perf_analyzer" "$("$py" -c 'import os, sys; print(os.path.dirname(sys.executable))')/"
    "$py" -m pip install -q --no-deps --no-build-isolation --no-index -e .
    "$py" -m pytest_model_analyzer.infra.runtime --prepare
    ;;
*)
    sed -n "2,10p" "$0" >&2
    exit 2
    ;;
esac
