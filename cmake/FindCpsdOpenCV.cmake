# SPDX-License-Identifier: Apache-2.0
# Finds OpenCV's core and imgproc from Debian's per-module -dev packages (the CMake config
# ships only with the libopencv-dev meta package, which pulls in GUI and video stacks we do
# not use; image files are read and written with TurboJPEG and libpng, see image_codec.h).
# Defines the imported target cpsd::opencv.
find_path(CPSD_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
foreach(module core imgproc)
  find_library(CPSD_OPENCV_${module}_LIBRARY opencv_${module})
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CpsdOpenCV DEFAULT_MSG CPSD_OPENCV_INCLUDE_DIR
  CPSD_OPENCV_core_LIBRARY CPSD_OPENCV_imgproc_LIBRARY)
if(CpsdOpenCV_FOUND AND NOT TARGET cpsd::opencv)
  add_library(cpsd::opencv INTERFACE IMPORTED)
  set_target_properties(cpsd::opencv PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${CPSD_OPENCV_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES "${CPSD_OPENCV_imgproc_LIBRARY};${CPSD_OPENCV_core_LIBRARY}")
endif()
