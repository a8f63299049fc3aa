# SPDX-License-Identifier: Apache-2.0
# Turns one file into a C++ source defining `const char NAME[]` and `NAME_size`.
# Usage: cmake -DINPUT=file -DOUTPUT=file.cc -DNAME=kSymbol -P embed_asset.cmake
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\n#include <cstddef>\nnamespace mfa {\nextern const char ${NAME}[] = {${bytes} 0};\nextern const std::size_t ${NAME}_size = ${size};\n}  // namespace mfa\n")
