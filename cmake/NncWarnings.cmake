# nnc_set_warnings(target): the project's one warning policy, applied per target.
function(nnc_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
    -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 at -O2/-O3 reports std::string and std::variant internals inlined into our code
    # (GCC bugs 105329 and 105651, false positives), and with the sanitizers fmt's fill_t
    # (a -Wstringop-overflow false positive); clang and the debug build keep these on.
    target_compile_options(${target} PRIVATE
      $<$<NOT:$<CONFIG:Debug>>:-Wno-restrict -Wno-maybe-uninitialized -Wno-stringop-overflow>)
  endif()
endfunction()
