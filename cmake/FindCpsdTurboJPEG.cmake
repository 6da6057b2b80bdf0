# SPDX-License-Identifier: Apache-2.0
# Finds libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0-dev ships neither a CMake
# config nor, for this library alone, a usable pkg-config module everywhere). Defines the
# imported target cpsd::turbojpeg.
find_path(CPSD_TURBOJPEG_INCLUDE_DIR turbojpeg.h)
find_library(CPSD_TURBOJPEG_LIBRARY turbojpeg)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CpsdTurboJPEG DEFAULT_MSG CPSD_TURBOJPEG_INCLUDE_DIR
  CPSD_TURBOJPEG_LIBRARY)
if(CpsdTurboJPEG_FOUND AND NOT TARGET cpsd::turbojpeg)
  add_library(cpsd::turbojpeg UNKNOWN IMPORTED)
  set_target_properties(cpsd::turbojpeg PROPERTIES
    IMPORTED_LOCATION ${CPSD_TURBOJPEG_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CPSD_TURBOJPEG_INCLUDE_DIR})
endif()
