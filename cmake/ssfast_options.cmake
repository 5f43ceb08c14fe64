# Compile options shared by every ssfast target: warnings and, on request, sanitizers.
add_library(ssfast_options INTERFACE)
target_compile_options(ssfast_options INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow
  $<$<BOOL:${SSFAST_WERROR}>:-Werror>)
if(SSFAST_SANITIZE)
  target_compile_options(ssfast_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(ssfast_options INTERFACE -fsanitize=address,undefined)
endif()

# ssfast_component(NAME SOURCES...): one static library per folder, with its public headers
# under include/ and an ssfast:: alias.
function(ssfast_component name)
  add_library(ssfast_${name} STATIC ${ARGN})
  add_library(ssfast::${name} ALIAS ssfast_${name})
  target_include_directories(ssfast_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(ssfast_${name} PRIVATE $<BUILD_INTERFACE:ssfast_options>)
endfunction()
