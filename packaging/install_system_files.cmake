# SPDX-License-Identifier: Apache-2.0
# Runs at install time (packaging/CMakeLists.txt) for one component, KW_COMPONENT, with the real
# prefix: writes its systemd units with the binaries' absolute paths and installs its conffiles.
# A prefix of /usr takes /etc as its configuration directory, any other prefix its own etc/.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(KEYWARD_SYSCONFDIR /etc/keyward)
else()
  set(KEYWARD_SYSCONFDIR ${CMAKE_INSTALL_PREFIX}/etc/keyward)
endif()
set(KEYWARD_BINDIR ${CMAKE_INSTALL_PREFIX}/bin)
set(unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)

if(KW_COMPONENT STREQUAL "keyward")
  file(INSTALL ${KW_SOURCE}/etc/config.yaml DESTINATION ${KEYWARD_SYSCONFDIR})
  return()
endif()
set(units keyward-${KW_COMPONENT}.service)
if(KW_COMPONENT STREQUAL "agent")
  list(APPEND units keyward-agent.timer)
endif()
foreach(unit IN LISTS units)
  if(EXISTS ${KW_SOURCE}/systemd/${unit}.in)
    configure_file(${KW_SOURCE}/systemd/${unit}.in ${KW_WORK}/${unit} @ONLY)
  else()
    configure_file(${KW_SOURCE}/systemd/${unit} ${KW_WORK}/${unit} COPYONLY)
  endif()
  file(INSTALL ${KW_WORK}/${unit} DESTINATION ${unit_dir} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()
file(INSTALL ${KW_SOURCE}/etc/${KW_COMPONENT}.env DESTINATION ${KEYWARD_SYSCONFDIR}
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
