# Install rules and the Debian package (docs/operations.md, "Install").
#
#   make install   (cmake --install build)  the binary, the systemd unit
#                  template, an example /etc/lienthong/NAME.conf and the docs;
#                  the web UI is embedded in the binary.
#   make package   (cpack -G DEB in build/)  lienthong_VERSION-RELEASE_ARCH.deb:
#                  runtime dependencies from dpkg-shlibdeps plus the plugin
#                  and data packages the binary loads at run time; postinst
#                  creates the system user lienthong, postrm --purge deletes
#                  the data. `cpack -D CPACK_DEBIAN_PACKAGE_RELEASE=2` bumps
#                  the release (tests/package_deb.sh upgrades with it).
include(GNUInstallDirs)

install(TARGETS lienthong RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The unit names the installed binary: /usr/bin/lienthong in the package
# (cpack installs with the prefix /usr), PREFIX/bin/lienthong for a local
# make install; it goes to PREFIX/lib/systemd/system (/usr/lib/systemd/system,
# systemd's unit path on Debian 12). Made at install time, when the prefix
# is known.
install(CODE "
  set(LT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  configure_file(\"${CMAKE_SOURCE_DIR}/packaging/lienthong@.service.in\"
    \"${CMAKE_BINARY_DIR}/lienthong@.service\" @ONLY)
  file(INSTALL \"${CMAKE_BINARY_DIR}/lienthong@.service\"
    DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
")
install(FILES packaging/example.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md"
  PATTERN "*.yaml")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lienthong)
set(CPACK_PACKAGE_VENDOR "lienthong")
set(CPACK_PACKAGE_CONTACT "lienthong maintainers <lienthong@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "smart-city operations node: signed change logs replicated across tiers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded at run time, so dpkg-shlibdeps cannot see them: lws's libuv
# plugin, the system CA store of wss:// upstreams, useradd for postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libwebsockets-evlib-uv, ca-certificates, passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "lmdb-utils, ffmpeg")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
