# Included by the top-level CMakeLists.txt when PAYMENTS_FUZZ is ON, before
# any target is defined: everything built in this tree (our libraries and the
# generated protobuf code) gets libFuzzer coverage, ASan and UBSan. Debian's
# gRPC, protobuf, Abseil, OpenSSL and nlohmann-json runtime parts stay as
# Debian built them (GCC, no sanitizers), so findings are ours.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PAYMENTS_FUZZ needs clang "
                      "(-DCMAKE_CXX_COMPILER=clang++-14); see scripts/fuzz.sh")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                    -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
