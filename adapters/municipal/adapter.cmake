# The adapter proper: the importer (gRPC to the care service), the drop directory, the HTTP
# endpoint, MunicipalAdapter (run by carehubd) and the daemon carehub-municipal.
find_package(Boost 1.74 REQUIRED)

carehub_library(carehub_municipal municipal
  importer.cc
  drop_directory.cc
  report_json.cc
  import_http.cc
  municipal_adapter.cc)
target_include_directories(carehub_municipal
  PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
  PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(carehub_municipal
  PUBLIC carehub::municipal_format carehub::care_service_proto carehub::http_server
         gRPC::grpc++ absl::status absl::statusor absl::time absl::synchronization
  PRIVATE carehub::base nlohmann_json::nlohmann_json absl::strings Threads::Threads)

carehub_executable(carehub-municipal main.cc)
target_link_libraries(carehub-municipal PRIVATE
  carehub::municipal carehub::services_common carehub::base gRPC::grpc++
  absl::flags absl::flags_parse absl::flags_usage absl::strings absl::time)

if(CAREHUB_BUILD_TESTS)
  carehub_test(municipal_adapter_test
    SOURCES importer_test.cc drop_directory_test.cc import_http_test.cc municipal_adapter_test.cc
    LIBS carehub::municipal carehub::care_service carehub::services_common
         carehub::services_testing Boost::headers absl::strings absl::time
    LABELS adapters)
  target_compile_definitions(municipal_adapter_test PRIVATE
    CAREHUB_MUNICIPAL_TESTDATA="${CMAKE_CURRENT_SOURCE_DIR}/testdata")

  carehub_test(municipal_binary_test
    SOURCES municipal_binary_test.cc
    LIBS carehub::care_service_proto carehub::services_testing Boost::headers gRPC::grpc++
         nlohmann_json::nlohmann_json absl::strings absl::time
    LABELS adapters)
  target_include_directories(municipal_binary_test PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(municipal_binary_test PRIVATE
    CAREHUB_MUNICIPAL_PATH="$<TARGET_FILE:carehub-municipal>"
    CAREHUB_CARE_PATH="$<TARGET_FILE:carehub-care>"
    CAREHUB_EVENTSTORE_PATH="$<TARGET_FILE:carehub-eventstore>")
  add_dependencies(municipal_binary_test carehub-municipal carehub-care carehub-eventstore)
endif()

if(CAREHUB_BUILD_BENCHMARKS AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/bench/municipal_bench.cc)
  carehub_executable(carehub-municipal-bench bench/municipal_bench.cc)
  target_include_directories(carehub-municipal-bench PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(carehub-municipal-bench PRIVATE
    carehub::municipal carehub::care_service carehub::care_commands carehub::services_common
    carehub::eventstore carehub::base absl::flags absl::flags_parse absl::strings
    absl::str_format absl::time)
endif()
