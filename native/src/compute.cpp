#include "compute.h"

#include <map>
#include <utility>

#include "ggml-backend.h"

namespace loom {

namespace {

struct CpuThreadpoolFunctions {
  decltype(ggml_threadpool_new)* create = nullptr;
  decltype(ggml_threadpool_free)* release = nullptr;
};

// The CPU backend is loaded at run time, so its threadpool functions are looked up through the backend registry.
CpuThreadpoolFunctions cpuFunctions() {
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (!cpu) return {};
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
  return {reinterpret_cast<decltype(ggml_threadpool_new)*>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new")),
          reinterpret_cast<decltype(ggml_threadpool_free)*>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"))};
}

std::shared_ptr<Threadpool> newThreadpool(int32_t threads, uint32_t poll) {
  const CpuThreadpoolFunctions fns = cpuFunctions();
  if (!fns.create || !fns.release) return nullptr;
  ggml_threadpool_params params = ggml_threadpool_params_default(threads);
  params.poll = poll;
  ggml_threadpool* pool = fns.create(&params);
  return pool ? std::make_shared<Threadpool>(pool, fns.release) : nullptr;
}

}  // namespace

std::shared_ptr<Threadpool> cpuThreadpool(int32_t threads, uint32_t poll, bool shared) {
  if (!shared) return newThreadpool(threads, poll);
  static std::mutex registryMutex;
  static std::map<std::pair<int32_t, uint32_t>, std::weak_ptr<Threadpool>> registry;
  std::lock_guard<std::mutex> lock(registryMutex);
  std::weak_ptr<Threadpool>& slot = registry[{threads, poll}];
  std::shared_ptr<Threadpool> pool = slot.lock();
  if (!pool) slot = pool = newThreadpool(threads, poll);
  return pool;
}

std::unique_lock<std::mutex> lockSharedCompute() {
  static std::mutex computeMutex;
  return std::unique_lock<std::mutex>(computeMutex);
}

}  // namespace loom
