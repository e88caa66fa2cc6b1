# Helpers that give every carehub target the same warnings and layout.
# Generated code (protobuf, gRPC) is built without them.

# GCC 12 reports false maybe-uninitialized warnings through std::optional at -O2 and above
# (more so under ASan), so that one warning is not an error.
set(CAREHUB_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-maybe-uninitialized
    -Wno-missing-field-initializers)  # designated initializers name only what differs

# carehub_library(NAME ALIAS SOURCES... ) -> target NAME with alias carehub::ALIAS
function(carehub_library name alias)
  add_library(${name} ${ARGN})
  add_library(carehub::${alias} ALIAS ${name})
  target_compile_options(${name} PRIVATE ${CAREHUB_WARNINGS})
endfunction()

# Linked with jemalloc when CAREHUB_JEMALLOC is on (CMakeLists.txt says why).
function(carehub_executable name)
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE ${CAREHUB_WARNINGS})
  if(CAREHUB_JEMALLOC_LIBRARY)
    target_link_libraries(${name} PRIVATE ${CAREHUB_JEMALLOC_LIBRARY})
  endif()
endfunction()

# carehub_test(NAME SOURCES... LIBS ...) -> a GoogleTest binary registered with ctest.
function(carehub_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${CAREHUB_WARNINGS})
  # Tests may include internal headers by their rooted path ("eventstore/internal/codec.h").
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
