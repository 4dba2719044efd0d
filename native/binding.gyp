{
  "targets": [
    {
      "target_name": "loom",
      "sources": [
        "src/addon.cpp",
        "src/log.cpp",
        "src/model.cpp",
        "src/lora.cpp",
        "src/sampler.cpp",
        "src/context.cpp",
        "src/decode-calls.cpp",
        "src/compute.cpp",
        "src/heap.cpp",
        "src/kv-introspect.cpp",
        "src/chat-templates.cpp",
        "src/chat-parser.cpp",
        "src/chat-json.cpp",
        "src/chat-tool-grammar.cpp",
        "src/schema-grammar.cpp",
        "src/grammar-sampler.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        ".headers/include",
        ".headers/ggml/include",
        ".headers/src",
        ".headers/common"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wall", "-Wno-unused-parameter", "-Wno-unused-function"],
      "libraries": [
        "<(llama_lib_dir)/<(llama_lib)",
        "<(llama_lib_dir)/<(ggml_lib)",
        "<(llama_lib_dir)/<(ggml_base_lib)",
        "<(llama_lib_dir)/<(common_lib)"
      ],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,-rpath,'$$ORIGIN/<(llama_rpath)'"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_ENABLE_CPP_RTTI": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_LDFLAGS": ["-Wl,-rpath,@loader_path/<(llama_rpath)"]
          }
        }]
      ]
    }
  ]
}
