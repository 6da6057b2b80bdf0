# SPDX-License-Identifier: Apache-2.0
# Compiler settings shared by every target: standard, visibility, warnings, ccache, PCH.

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
# Everything is hidden unless marked CPSD_SDK_API / CPSD_CORE_API; plugins export only
# their entry symbol. One visibility for all targets also lets them share one PCH.
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# -DCPSD_SANITIZE=address,undefined: every target built and linked with those sanitizers
# (`make test-asan`). UBSan stops at the first finding so that a test fails; its vptr check
# is left out: LibTorch is not instrumented and its RTTI crosses library boundaries.
set(CPSD_SANITIZE "" CACHE STRING "sanitizers to build with, e.g. address,undefined")
if(CPSD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CPSD_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT CPSD_SANITIZE)
    set(CPSD_SANITIZE fuzzer-no-link,address,undefined)
  endif()
endif()
# Shared libraries resolve every symbol at link time, except in a fuzzing build: clang's
# sanitizer and coverage runtimes live in the executable.
if(CPSD_FUZZ)
  set(CPSD_NO_UNDEFINED "")
else()
  set(CPSD_NO_UNDEFINED "LINKER:-z,defs")
endif()
# -O1 (after the build type's -O3, so it wins) is what the sanitizers recommend, and it
# compiles this tree about 40% faster, which CI's 90 minutes need.
if(CPSD_SANITIZE)
  add_compile_options(-O1 -fsanitize=${CPSD_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${CPSD_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 at -O1 with ASan flags libstdc++'s own std::regex as maybe-uninitialized.
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  if(CPSD_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize=vptr -fno-sanitize-recover=undefined)
    add_link_options(-fno-sanitize=vptr)
  endif()
endif()

find_program(CPSD_CCACHE ccache)
if(CPSD_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # PCH-friendly ccache: the sloppiness ccache documents for precompiled headers.
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${CPSD_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

# Warnings for our own code (LibTorch headers are system headers and stay quiet).
function(cpsd_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# LibTorch, Boost, spdlog and gtest must agree on _GLIBCXX_USE_CXX11_ABI; read LibTorch's
# value and refuse a build that sets another.
function(cpsd_check_cxx11_abi)
  set(torch_abi "")
  string(REGEX MATCH "_GLIBCXX_USE_CXX11_ABI=([01])" _m "${TORCH_CXX_FLAGS}")
  if(_m)
    set(torch_abi ${CMAKE_MATCH_1})
  endif()
  string(REGEX MATCH "_GLIBCXX_USE_CXX11_ABI=([01])" _m2 "${CMAKE_CXX_FLAGS}")
  if(_m2 AND torch_abi AND NOT CMAKE_MATCH_1 STREQUAL torch_abi)
    message(FATAL_ERROR "CMAKE_CXX_FLAGS sets _GLIBCXX_USE_CXX11_ABI=${CMAKE_MATCH_1} but LibTorch "
                        "was built with ${torch_abi}; remove the flag or use a matching LibTorch")
  endif()
  set(CPSD_CXX11_ABI "${torch_abi}" PARENT_SCOPE)
  message(STATUS "cpsd: LibTorch ${Torch_VERSION}, _GLIBCXX_USE_CXX11_ABI=${torch_abi}")
endfunction()

# One precompiled header with the LibTorch API, reused by every C++ target that includes
# LibTorch (a TU that includes <torch/torch.h> costs tens of seconds without it).
function(cpsd_define_pch)
  if(NOT CPSD_USE_PCH)
    return()
  endif()
  add_library(cpsd_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(cpsd_pch PRIVATE torch)
  target_precompile_headers(cpsd_pch PRIVATE <torch/torch.h>)
endfunction()

function(cpsd_use_pch target)
  if(CPSD_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM cpsd_pch)
    target_compile_options(${target} PRIVATE -Winvalid-pch)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      # The PCH is compiled -fPIC; PIC objects link into PIE executables just as well.
      set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
      target_compile_options(${target} PRIVATE -fPIC)
    endif()
  endif()
endfunction()
