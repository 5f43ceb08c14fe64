# SPDX-License-Identifier: Apache-2.0
# libssfast: every component's objects as one static archive (linked in-tree, and installed as
# ssfast::ssfast_static) and one shared library with a SONAME that exports only the API marked
# SSFAST_API (ssfast::ssfast); install rules, the CMake package and ssfast.pc.
include(CMakePackageConfigHelpers)

set(ssfast_objects
  $<TARGET_OBJECTS:ssfast_core> $<TARGET_OBJECTS:ssfast_netlink>
  $<TARGET_OBJECTS:ssfast_fallback> $<TARGET_OBJECTS:ssfast_api>
  $<TARGET_OBJECTS:ssfast_report> $<TARGET_OBJECTS:ssfast_doctor>
  $<TARGET_OBJECTS:ssfast_serve>)
add_library(ssfast_static STATIC ${ssfast_objects})
add_library(ssfast_shared SHARED ${ssfast_objects})

foreach(lib ssfast_static ssfast_shared)
  target_include_directories(${lib} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/core/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/api/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/netlink/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/fallback/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/report/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/doctor/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/serve/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # Boost.Container is used inside (fallback/, compiled by its object library), never in an
  # installed header: consumers need no Boost.
  target_link_libraries(${lib} PRIVATE $<BUILD_INTERFACE:ssfast_options>)
endforeach()
# The archive's users link what its objects need; the shared library carries that itself.
target_link_libraries(ssfast_static PUBLIC PkgConfig::LIBMNL Threads::Threads)
target_link_libraries(ssfast_shared PRIVATE PkgConfig::LIBMNL Threads::Threads)
set_target_properties(ssfast_static PROPERTIES OUTPUT_NAME ssfast EXPORT_NAME ssfast_static)
set_target_properties(ssfast_shared PROPERTIES
  OUTPUT_NAME ssfast EXPORT_NAME ssfast
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})

add_library(ssfast::ssfast ALIAS ssfast_static)
add_library(ssfast::ssfast_shared ALIAS ssfast_shared)

# In-tree consumers (the cli, tests, benchmarks, fuzz targets) link one folder's archive, which
# links only the folders it really depends on. What a folder's public headers include is PUBLIC
# (its include directories reach the consumer); what only its sources use is PRIVATE (linked,
# never visible), so an include that runs up or skips a floor does not compile: the cli sees
# api/ but not netlink/, a test of netlink/ sees core/ but not api/. tests/layering checks it.
# The same objects; nothing compiles twice.
#   ssfast_folder_archive(NAME [PUBLIC targets...] [PRIVATE targets...])
function(ssfast_folder_archive name)
  cmake_parse_arguments(A "" "" "PUBLIC;PRIVATE" ${ARGN})
  add_library(ssfast_${name}_archive STATIC $<TARGET_OBJECTS:ssfast_${name}>)
  target_include_directories(ssfast_${name}_archive PUBLIC ${PROJECT_SOURCE_DIR}/${name}/include)
  target_link_libraries(ssfast_${name}_archive PUBLIC ${A_PUBLIC} PRIVATE ${A_PRIVATE})
  add_library(ssfast::${name} ALIAS ssfast_${name}_archive)
endfunction()
ssfast_folder_archive(core PRIVATE Threads::Threads)
ssfast_folder_archive(netlink PUBLIC ssfast::core PRIVATE PkgConfig::LIBMNL Threads::Threads)
ssfast_folder_archive(fallback PUBLIC ssfast::core PRIVATE Boost::headers Threads::Threads)
ssfast_folder_archive(api PUBLIC ssfast::core PRIVATE ssfast::netlink ssfast::fallback)
ssfast_folder_archive(report PUBLIC ssfast::api ssfast::core)
ssfast_folder_archive(doctor PUBLIC ssfast::report ssfast::api ssfast::core)
# check and the exporter judge with the doctor's one rule set; the doctor never sees serve.
ssfast_folder_archive(serve PUBLIC ssfast::report ssfast::api ssfast::core PRIVATE ssfast::doctor)

install(TARGETS ssfast_shared ssfast_static EXPORT ssfastTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/ssfast ${PROJECT_SOURCE_DIR}/api/include/ssfast
  ${PROJECT_SOURCE_DIR}/report/include/ssfast ${PROJECT_SOURCE_DIR}/doctor/include/ssfast
  ${PROJECT_SOURCE_DIR}/serve/include/ssfast
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN detail EXCLUDE)  # test seams: not part of the installed API
install(EXPORT ssfastTargets NAMESPACE ssfast::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssfast)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ssfast-config.cmake.in
  ${PROJECT_BINARY_DIR}/ssfast-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssfast)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ssfast-config-version.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ssfast-config.cmake
  ${PROJECT_BINARY_DIR}/ssfast-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ssfast)
# From <libdir>/pkgconfig back to the prefix, whatever --prefix the install is given.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "ssfast.pc needs a relative CMAKE_INSTALL_LIBDIR")
endif()
file(RELATIVE_PATH SSFAST_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/ssfast.pc.in ${PROJECT_BINARY_DIR}/ssfast.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ssfast.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# Whoever ships the library ships its license with it (Apache-2.0, section 4(a)).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
