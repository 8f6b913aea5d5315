# Installing Keyward like a package (docs/operations.md#installing):
#   cmake --install build [--prefix /usr]     binaries, libraries, headers, the CMake package,
#                                             pkg-config, the default configuration, systemd units
#   (cd build && cpack)                       keyward_<version>_<arch>.deb for Debian 12
# A C++ service then does find_package(Keyward) and links Keyward::client or Keyward::redlock,
# or uses `pkg-config --cflags --libs keyward`.
include(CMakePackageConfigHelpers)

# A sanitized build's libraries call the sanitizers' runtime: whatever links them needs it too.
if(KEYWARD_SANITIZE)
  target_link_options(keyward_client INTERFACE -fsanitize=address,undefined)
endif()

install(TARGETS keyward-server keyward RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# keyward-sentinel is keyward-server under another name, as redis-sentinel is redis-server.
install(CODE "execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink keyward-server
  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/keyward-sentinel\")")

install(TARGETS keyward_client keyward_redlock keyward_error_codes EXPORT KeywardTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/include/keyward
                  ${PROJECT_SOURCE_DIR}/redlock/include/keyward
                  ${PROJECT_SOURCE_DIR}/include/keyward
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT KeywardTargets NAMESPACE Keyward::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Keyward)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/KeywardConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/KeywardConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Keyward)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/KeywardConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/KeywardConfig.cmake ${CMAKE_BINARY_DIR}/KeywardConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Keyward)

if(KEYWARD_SANITIZE)
  set(KEYWARD_PC_SANITIZE "-fsanitize=address,undefined")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/keyward.pc.in ${CMAKE_BINARY_DIR}/keyward.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/keyward.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The default configuration (copied to /etc/keyward by the package when absent) and the systemd
# units, relative to the prefix so that an install into a scratch prefix stays there.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/keyward.conf ${CMAKE_CURRENT_LIST_DIR}/sentinel.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/keyward)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/systemd/keyward.service
              ${CMAKE_CURRENT_LIST_DIR}/systemd/keyward-sentinel.service
        DESTINATION lib/systemd/system)

# The Debian package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME keyward)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Keyward maintainers <keyward@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Distributed locks with fencing tokens, and a Redis 7.0-compatible server")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "adduser, libssl3, liblua5.1-0, lua-cjson, lua-bitop, liblzf1, libxxhash0, libspdlog1.10, libfmt9")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/debian/postinst;${CMAKE_CURRENT_LIST_DIR}/debian/prerm;${CMAKE_CURRENT_LIST_DIR}/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
