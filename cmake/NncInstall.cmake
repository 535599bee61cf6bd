# `cmake --install`: libnnc with its headers, libnnc_rt, the nnc tool, a CMake package (find_package(nnc),
# target nnc::nnc) and a pkg-config file (nnc.pc).
include(CMakePackageConfigHelpers)

install(TARGETS nnc_api EXPORT nncTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The runtime of models compiled ahead of time (nnc compile); no LLVM.
install(TARGETS nnc_rt LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS nnc RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/nnc/diagnostic.h include/nnc/result.h include/nnc/model.h include/nnc/nnc.h
              ${PROJECT_BINARY_DIR}/include/nnc/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nnc)

set(NNC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nnc)
install(EXPORT nncTargets NAMESPACE nnc:: DESTINATION ${NNC_CMAKE_DIR})
configure_package_config_file(cmake/nncConfig.cmake.in ${PROJECT_BINARY_DIR}/nncConfig.cmake
                              INSTALL_DESTINATION ${NNC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nncConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nncConfig.cmake ${PROJECT_BINARY_DIR}/nncConfigVersion.cmake
        DESTINATION ${NNC_CMAKE_DIR})

# Relocatable: the prefix is found from where nnc.pc lies, so `cmake --install --prefix` works.
file(RELATIVE_PATH NNC_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/nnc.pc.in ${PROJECT_BINARY_DIR}/nnc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nnc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
