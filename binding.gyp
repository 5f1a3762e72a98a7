# The CPU-only addon for users without CMake, built by node-gyp from the same source list as
# CMakeLists.txt (scripts/native-sources.js). CI builds it once so it stays true.
{
  "targets": [
    {
      "target_name": "highservice_native",
      "sources": ["<!@(node scripts/native-sources.js cpu --gyp)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-frtti", "-fvisibility=hidden"]
    }
  ]
}
