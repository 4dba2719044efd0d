#include "log.h"

#include <atomic>
#include <cstdio>

#include "common.h"
#include "ggml.h"

// From llama.cpp's common/log.h, which this file cannot include by name: its own header is also log.h.
void common_log_set_verbosity_thold(int verbosity);

namespace loom {

namespace {

std::atomic<int> verbosity{0};
thread_local std::string lastError;
thread_local ggml_log_level lastLevel = GGML_LOG_LEVEL_NONE;

int verbosityOf(ggml_log_level level) {
  switch (level) {
    case GGML_LOG_LEVEL_ERROR: return 1;
    case GGML_LOG_LEVEL_WARN: return 2;
    case GGML_LOG_LEVEL_INFO: return 3;
    default: return 4;
  }
}

void onLog(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_CONT) {
    level = lastLevel;
  } else {
    lastLevel = level;
    if (level == GGML_LOG_LEVEL_ERROR && !lastError.empty()) lastError += "; ";
  }
  if (level == GGML_LOG_LEVEL_ERROR) {
    lastError += text;
    while (!lastError.empty() && (lastError.back() == '\n' || lastError.back() == ' ')) lastError.pop_back();
  }
  if (verbosityOf(level) <= verbosity.load(std::memory_order_relaxed)) fputs(text, stderr);
}

}  // namespace

void installLogHandler() {
  llama_log_set(onLog, nullptr);
}

void setLogLevel(int level) {
  verbosity.store(level, std::memory_order_relaxed);
  // The chat layer logs through llama.cpp's common log instead (thresholds: -1 none, 1 error, 2 warn, 3 info, 5 debug).
  static const int commonThreshold[] = {-1, 1, 2, 3, 5};
  common_log_set_verbosity_thold(commonThreshold[level < 0 ? 0 : level > 4 ? 4 : level]);
}

std::string takeLastLlamaError() {
  std::string message = lastError;
  lastError.clear();
  return message;
}

std::string withLlamaReason(const std::string& message) {
  std::string reason = takeLastLlamaError();
  return reason.empty() ? message : message + ": " + reason;
}

Napi::Error makeCodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void throwCoded(Napi::Env env, const std::string& code, const std::string& message) {
  throw makeCodedError(env, code, message);
}

void PromiseWorker::Execute() {
  takeLastLlamaError();  // errors logged by earlier work on this pool thread are not this operation's
  try {
    Run();
  } catch (const CodedError& e) {
    code_ = e.code();
    SetError(e.what());
  } catch (const std::exception& e) {
    code_ = "LOOM_NATIVE_ERROR";
    SetError(e.what());
  }
}

void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  try {
    deferred_.Resolve(Resolve(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void PromiseWorker::OnError(const Napi::Error& error) {
  Napi::Error coded = makeCodedError(Env(), code_.empty() ? "LOOM_NATIVE_ERROR" : code_, error.Message());
  deferred_.Reject(coded.Value());
}

}  // namespace loom
