# SPDX-License-Identifier: Apache-2.0
# Compile options shared by every ssfast target: warnings and, on request, sanitizers.
add_library(ssfast_options INTERFACE)
target_compile_options(ssfast_options INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow
  $<$<BOOL:${SSFAST_WERROR}>:-Werror>)
# GCC 12 at -O3 reports impossible overlaps inside std::string's operator+ ("literal" + str):
# a known false positive (GCC bug 105329), fixed in GCC 13.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(ssfast_options INTERFACE -Wno-restrict)
endif()
if(SSFAST_TEST_SEAMS)
  target_compile_definitions(ssfast_options INTERFACE SSFAST_TEST_SEAMS=1)
endif()
# libFuzzer builds: every object gets coverage instrumentation, not only the harness, or the
# fuzzer is blind to the parser it drives (the harness alone links -fsanitize=fuzzer).
if(SSFAST_FUZZ)
  target_compile_options(ssfast_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(SSFAST_SANITIZE)
  target_compile_options(ssfast_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(ssfast_options INTERFACE -fsanitize=address,undefined)
endif()

# ssfast_component(NAME SOURCES...): one object library per folder, with its headers under
# include/. The top level turns every component's objects into libssfast (static and shared),
# so each source compiles once.
function(ssfast_component name)
  add_library(ssfast_${name} OBJECT ${ARGN})
  target_include_directories(ssfast_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
  target_link_libraries(ssfast_${name} PRIVATE $<BUILD_INTERFACE:ssfast_options>)
endfunction()
