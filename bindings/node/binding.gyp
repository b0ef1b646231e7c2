# binding.gyp — the agentbudget addon: src/addon.c plus the C library's own sources
# (../../src/lib/*.c, listed by scripts/sources.js), so that one `npm install` here builds
# everything without a CMake build first. sqlite3 and jansson are linked; libpq and libcrypto
# are only needed as headers (the library loads them with dlopen() when it uses them).
{
  "targets": [
    {
      "target_name": "agentbudget",
      "sources": [
        "src/addon.c",
        "<!@(node scripts/sources.js)"
      ],
      "include_dirs": [
        "../../include",
        "<!@(node scripts/sources.js --include-dirs)"
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-fvisibility=hidden"],
      "cflags": ["-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lsqlite3", "-ljansson", "-lpthread", "-ldl"]
    }
  ]
}
