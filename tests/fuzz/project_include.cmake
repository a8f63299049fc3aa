# SPDX-License-Identifier: Apache-2.0
# Included right after project() by scripts/fuzz.sh (-DCMAKE_PROJECT_mfa_mock_INCLUDE=...).
# The top-level MFA_MOCK_FUZZ branch does not call find_package(Threads) before core/, whose
# mfa_core links Threads::Threads, so configuring fails with "target Threads::Threads not found".
# Finding it here (top-level scope, visible to every subdirectory) works around that until the
# top-level CMakeLists.txt does it itself; it is harmless once it does.
find_package(Threads REQUIRED)

# RapidJSON 1.1's member iterators trip clang's C++20 -Wambiguous-reversed-operator in every file
# that walks an object; the warning is about RapidJSON's operators, not this project's code.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options(-Wno-ambiguous-reversed-operator)
endif()
