# SPDX-License-Identifier: Apache-2.0
# cpsd_add_plugin(<name> SOURCES <src>... [LINK_LIBRARIES <lib>...]
#                 [OUTPUT_DIRECTORY <dir>] [INSTALL_DESTINATION <dir>] [NO_INSTALL])
#
# Builds cpsd_plugin_<name>.so, a MODULE library that links cpsd::sdk and LibTorch, hides
# every symbol except the versioned entry point (linker version script), refuses undefined
# symbols at link time, records whether LibTorch has CUDA in the plugin's fingerprint, and
# installs into lib/cpsd/plugins (or INSTALL_DESTINATION).
#
# Example (out of tree):
#   find_package(cpsd REQUIRED)
#   cpsd_add_plugin(hello SOURCES hello_backbone.cpp)

set(_CPSD_PLUGIN_MAP "${CMAKE_CURRENT_LIST_DIR}/cpsd_plugin.map")

function(cpsd_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY;INSTALL_DESTINATION"
                        "SOURCES;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "cpsd_add_plugin(${name}): SOURCES is required")
  endif()
  set(target cpsd_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME cpsd_plugin_${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    INSTALL_RPATH "$ORIGIN/../.."
    INSTALL_RPATH_USE_LINK_PATH ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  target_link_libraries(${target} PRIVATE cpsd::sdk torch ${ARG_LINK_LIBRARIES})
  target_link_options(${target} PRIVATE "LINKER:--version-script=${_CPSD_PLUGIN_MAP}"
                      "LINKER:-z,defs")
  if(TORCH_CUDA_LIBRARIES)
    target_compile_definitions(${target} PRIVATE CPSD_PLUGIN_WITH_CUDA=1)
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT ARG_INSTALL_DESTINATION)
      include(GNUInstallDirs)
      set(ARG_INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cpsd/plugins)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${ARG_INSTALL_DESTINATION})
  endif()
endfunction()
