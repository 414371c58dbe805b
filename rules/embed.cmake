# SPDX-License-Identifier: Apache-2.0
# Turns a data file into a C++ source defining `const char* const NAME` with its text.
file(READ ${INPUT} content)
file(WRITE ${OUTPUT} "// Generated from ${INPUT}: do not edit.\nnamespace keyward::rules::detail {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"KEYWARDDATA(${content})KEYWARDDATA\";\n}\n")
