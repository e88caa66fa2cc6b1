# Builds the reader's libFuzzer target with clang and runs it for a bounded time over the committed
# seed corpus (new inputs go to a scratch corpus in the build tree, never to the source tree).
#   cmake -DCLANGXX=clang++-14 -DSOURCE_DIR=.../adapters/municipal -DPROJECT_SOURCE_DIR=...
#         -DBINARY_DIR=... -DSECONDS=20 -P run_fuzz.cmake
file(MAKE_DIRECTORY ${BINARY_DIR}/scratch_corpus)
set(fuzzer ${BINARY_DIR}/municipal_reader_fuzzer)
set(sources ${SOURCE_DIR}/fuzz/reader_fuzzer.cc ${SOURCE_DIR}/reader.cc
            ${SOURCE_DIR}/internal/charset.cc ${PROJECT_SOURCE_DIR}/base/text.cc)
set(rebuild FALSE)
if(NOT EXISTS ${fuzzer})
  set(rebuild TRUE)
else()
  foreach(source ${sources} ${SOURCE_DIR}/include/carehub/municipal/reader.h
          ${SOURCE_DIR}/internal/charset.h ${PROJECT_SOURCE_DIR}/base/include/carehub/base/text.h)
    if(${source} IS_NEWER_THAN ${fuzzer})
      set(rebuild TRUE)
    endif()
  endforeach()
endif()
if(rebuild)
  execute_process(
    COMMAND ${CLANGXX} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined
            -I${SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}
            -I${PROJECT_SOURCE_DIR}/base/include ${sources} -o ${fuzzer}
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "building the fuzzer failed")
  endif()
endif()
execute_process(
  COMMAND ${fuzzer} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          ${BINARY_DIR}/scratch_corpus ${SOURCE_DIR}/fuzz/corpus
  RESULT_VARIABLE result
  WORKING_DIRECTORY ${BINARY_DIR})
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the fuzzer found a failing input (see crash-* in ${BINARY_DIR})")
endif()
