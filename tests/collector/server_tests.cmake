# keyward-collector server units (CA, config, gzip cap, rate limiter, API v1 on a temporary
# SQLite store). Included from tests/collector/CMakeLists.txt: include(server_tests.cmake).
if(TARGET keyward_collector_server AND NOT TARGET keyward_collector_server_tests)
  file(GLOB KEYWARD_COLLECTOR_SERVER_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/server_*_test.cpp)
  add_executable(keyward_collector_server_tests ${KEYWARD_COLLECTOR_SERVER_TEST_SOURCES})
  target_include_directories(keyward_collector_server_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests
    ${CMAKE_SOURCE_DIR}/collector/src)
  target_link_libraries(keyward_collector_server_tests PRIVATE keyward_doctest_main keyward::common
    keyward_collector_server keyward_collector_store keyward::protocol keyward::scanner OpenSSL::Crypto ZLIB::ZLIB yaml-cpp
    Boost::filesystem keyward_warnings)
  doctest_discover_tests(keyward_collector_server_tests TEST_PREFIX "collector.server.")
endif()
