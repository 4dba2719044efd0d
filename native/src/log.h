// Routes llama.cpp's log into a level filter and remembers each thread's last error for error messages.
#pragma once

#include <string>

namespace loom {

void installLogHandler();
// 0 silent, 1 error, 2 warn, 3 info, 4 debug
void setLogLevel(int level);
// Every error line llama.cpp logged on this thread since the last call, joined by "; ".
std::string takeLastLlamaError();

}  // namespace loom
