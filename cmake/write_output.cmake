# SPDX-License-Identifier: Apache-2.0
# cmake -DPROGRAM=<exe> "-DARGS=<arguments, space-separated>" -DOUTPUT=<file> -P write_output.cmake
# Runs PROGRAM with ARGS and writes its standard output to OUTPUT; fails, leaving no OUTPUT, when
# the program exits non-zero (so a half-written man page is never taken for a built one).
# A sanitizer build's leak report at exit would fail the build over a page; the suite checks leaks.
set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:detect_leaks=0")
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${rc})")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
