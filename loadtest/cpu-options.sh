# Sourced by loadtest/build-llama-server.sh and loadtest/gpu/run.sh.
# The CPU backend's instruction sets: this machine's, as node-llama-cpp's per-CPU builds pick them at run time
# (GGML_NATIVE is refused beside loadable backends). AMX is left out: a VM may not grant it. With AVX2 alone, the
# CPU kernels' sums depend on the batch, and a sequence decoded among others no longer matches its solo run.
cpu_options() {
  local flags pair
  flags=" $(grep -m 1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  for pair in sse4_2:SSE42 avx:AVX f16c:F16C fma:FMA bmi2:BMI2 avx2:AVX2 avx_vnni:AVX_VNNI avx512f:AVX512 \
    avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
    if [[ $flags == *" ${pair%%:*} "* ]]; then echo "-DGGML_${pair#*:}=ON"; else echo "-DGGML_${pair#*:}=OFF"; fi
  done
}
