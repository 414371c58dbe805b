# SPDX-License-Identifier: Apache-2.0
# Man pages and shell completion scripts (CONTRIBUTING.md, "Man pages and completion"). Each
# binary writes its own at build time from its command definitions, the source of its --help:
#   build/man/<binary>.<section>          --generate-man
#   build/completion/bash/<binary>        completion bash
#   build/completion/zsh/_<binary>        completion zsh
# keyward-rules(5) has no --help: it is written by hand, docs/man/keyward-rules.5. Everything is
# installed with the component of its binary (keyward, agent, collector).
set(KEYWARD_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(KEYWARD_COMPLETION_DIR ${CMAKE_BINARY_DIR}/completion)
set(KEYWARD_CLI_DOCS_OUTPUTS)

# keyward_cli_docs(<binary target> <man section> <install component>)
function(keyward_cli_docs target section component)
  set(man ${KEYWARD_MAN_DIR}/${target}.${section})
  set(bash ${KEYWARD_COMPLETION_DIR}/bash/${target})
  set(zsh ${KEYWARD_COMPLETION_DIR}/zsh/_${target})
  add_custom_command(OUTPUT ${man} ${bash} ${zsh}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${KEYWARD_MAN_DIR} ${KEYWARD_COMPLETION_DIR}/bash
            ${KEYWARD_COMPLETION_DIR}/zsh
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> -DARGS=--generate-man -DOUTPUT=${man}
            -P ${CMAKE_SOURCE_DIR}/cmake/write_output.cmake
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=completion bash" -DOUTPUT=${bash}
            -P ${CMAKE_SOURCE_DIR}/cmake/write_output.cmake
    COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=completion zsh" -DOUTPUT=${zsh}
            -P ${CMAKE_SOURCE_DIR}/cmake/write_output.cmake
    DEPENDS ${target} ${CMAKE_SOURCE_DIR}/cmake/write_output.cmake
    COMMENT "${target}: man page and bash/zsh completion from its command definitions"
    VERBATIM)
  install(FILES ${man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
  install(FILES ${bash} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT ${component})
  install(FILES ${zsh} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT ${component})
  set(KEYWARD_CLI_DOCS_OUTPUTS ${KEYWARD_CLI_DOCS_OUTPUTS} ${man} ${bash} ${zsh} PARENT_SCOPE)
endfunction()

keyward_cli_docs(keyward 1 keyward)
keyward_cli_docs(keyward-agent 8 agent)
keyward_cli_docs(keyward-collector 8 collector)
add_custom_target(keyward_cli_docs_files ALL DEPENDS ${KEYWARD_CLI_DOCS_OUTPUTS})

install(FILES ${CMAKE_SOURCE_DIR}/docs/man/keyward-rules.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 COMPONENT keyward)
# The documents the --help footers and the pages' SEE ALSO point at (/usr/share/doc/keyward).
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT keyward)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT keyward
  PATTERN man EXCLUDE)
