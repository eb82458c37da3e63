# Compile and link flags of the PAYMENTS_SANITIZER build variants.
if(PAYMENTS_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(PAYMENTS_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
elseif(NOT PAYMENTS_SANITIZER STREQUAL "")
  message(FATAL_ERROR
          "PAYMENTS_SANITIZER must be address, thread or empty, not "
          "'${PAYMENTS_SANITIZER}'")
endif()
