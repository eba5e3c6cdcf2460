# luaipc_add_addon(<name> SOURCES <file>... [POSIX <file>...] [LINUX <file>...]
#                  [DARWIN <file>...] [BSD <file>...] [WINDOWS <file>...])
#
# Builds <name>.node the way every @luaipc addon is built: C++17, Node-API 8 through
# node-addon-api with C++ exceptions (never rethrown when JS can no longer run), -Wall -Wextra
# -Werror, hidden symbols (two addons sharing these inline headers never bind to each other's
# copies), pthreads.
#
# Sources are listed per OS family, as libuv's CMakeLists does: SOURCES on every system, POSIX on
# Linux, macOS and the BSDs, then LINUX, DARWIN, BSD or WINDOWS on that system only. A backend
# for a new OS is a new file in a new list. Code that runs on macOS or a BSD but also compiles on
# Linux stays in the POSIX list, behind LUAIPC_PORTABLE, so Linux builds and tests it.
#
# In a package's src/native/CMakeLists.txt (luaipc-build-addon passes LUAIPC_CMAKE, the kit of
# the @luaipc/build that runs; a checkout asks the package's own devDependency):
#   if(NOT LUAIPC_CMAKE)
#     execute_process(COMMAND node -p "require('@luaipc/build').cmake"
#       WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE LUAIPC_CMAKE
#       OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
#   endif()
#   include(${LUAIPC_CMAKE})
#   luaipc_add_addon(sem SOURCES binding.cc POSIX sem_posix.cc WINDOWS sem_win.cc)

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

get_filename_component(LUAIPC_NATIVE_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/../include" ABSOLUTE)
get_filename_component(LUAIPC_NATIVE_SRC "${CMAKE_CURRENT_LIST_DIR}/../src" ABSOLUTE)

# The Node-API version every addon targets, stated once. (cmake-js only needs each package's
# `binary.napi_versions` to exist, to build against node-api-headers offline; a test checks
# that those say the same.)
set(LUAIPC_NAPI_VERSION 8)

# The OS families this build is for: the names of the source lists luaipc_add_addon compiles.
if(WIN32)
  set(LUAIPC_OS_FAMILIES WINDOWS)
elseif(APPLE)
  set(LUAIPC_OS_FAMILIES POSIX DARWIN)
elseif(CMAKE_SYSTEM_NAME MATCHES "BSD|DragonFly")
  set(LUAIPC_OS_FAMILIES POSIX BSD)
elseif(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(LUAIPC_OS_FAMILIES POSIX LINUX)
elseif(UNIX)
  set(LUAIPC_OS_FAMILIES POSIX)
else()
  message(FATAL_ERROR "@luaipc: no source list for ${CMAKE_SYSTEM_NAME}")
endif()

# The glue's OS backends (thread start, module pinning, mappings, deadline alarms), compiled into
# every addon, in the same per-OS lists (relative to ${LUAIPC_NATIVE_SRC}).
set(LUAIPC_GLUE_POSIX glue_posix.cc mapping_posix.cc alarm_posix.cc)
set(LUAIPC_GLUE_LINUX)
set(LUAIPC_GLUE_DARWIN)
set(LUAIPC_GLUE_BSD)
set(LUAIPC_GLUE_WINDOWS glue_win.cc mapping_win.cc alarm_win.cc)
set(LUAIPC_GLUE_SOURCES)
foreach(family IN LISTS LUAIPC_OS_FAMILIES)
  foreach(source IN LISTS LUAIPC_GLUE_${family})
    list(APPEND LUAIPC_GLUE_SOURCES "${LUAIPC_NATIVE_SRC}/${source}")
  endforeach()
endforeach()

# -DLUAIPC_PORTABLE=ON (cmake-js: --CDLUAIPC_PORTABLE=ON) builds the POSIX code paths that
# macOS and FreeBSD need where Linux has better calls (no sem_timedwait, no open-file-description
# locks, no pidfd, ...), so Linux runs them through the same suites.
option(LUAIPC_PORTABLE "Use only the portable POSIX paths" OFF)

# Linux prebuilds (scripts/prebuild.mjs): -DLUAIPC_COMPAT_GLIBC=ON adds local definitions of the
# symbols old glibc/libstdc++ lack (src/compat/glibc_compat.cc), and -DLUAIPC_SYMVER_HEADER=<h>
# force-includes the generated .symver lines that bind every other symbol to its oldest version.
option(LUAIPC_COMPAT_GLIBC "Build for old glibc (prebuilds)" OFF)

# Prebuilds (scripts/prebuild.mjs, build-win.mjs): -DLUAIPC_PREBUILD=ON optimizes for size,
# drops unused code and strips the symbol tables, which only a debugger reads: every user
# downloads the binary, and the addons are thin glue whose time goes to system calls and
# Node-API, which -Os leaves alone.
option(LUAIPC_PREBUILD "Build a binary to ship (prebuilds)" OFF)
set(LUAIPC_SYMVER_HEADER "" CACHE FILEPATH "Generated .symver header for old-glibc builds")

function(luaipc_add_addon name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;POSIX;LINUX;DARWIN;BSD;WINDOWS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "luaipc_add_addon(${name}): name each list (SOURCES, POSIX, LINUX, "
      "DARWIN, BSD, WINDOWS) before its files: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(DEFINED ENV{LUAIPC_NODE_ADDON_API})
    # luaipc-build-addon: an installed package has node-addon-api in a tools folder of its own.
    set(node_addon_api_dir "$ENV{LUAIPC_NODE_ADDON_API}")
  else()
    execute_process(
      COMMAND node -p "require('path').dirname(require.resolve('node-addon-api/package.json'))"
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
      OUTPUT_VARIABLE node_addon_api_dir
      OUTPUT_STRIP_TRAILING_WHITESPACE
      COMMAND_ERROR_IS_FATAL ANY)
  endif()

  set(sources ${arg_SOURCES})
  foreach(family IN LISTS LUAIPC_OS_FAMILIES)
    list(APPEND sources ${arg_${family}})
  endforeach()
  if(LUAIPC_COMPAT_GLIBC)
    list(APPEND sources "${LUAIPC_NATIVE_SRC}/compat/glibc_compat.cc")
  endif()
  add_library(${name} SHARED ${sources} ${LUAIPC_GLUE_SOURCES} ${CMAKE_JS_SRC})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".node"
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # SYSTEM: warnings are for our code, not for Node's headers.
  target_include_directories(${name} SYSTEM PRIVATE ${CMAKE_JS_INC} ${node_addon_api_dir})
  target_include_directories(${name} PRIVATE ${LUAIPC_NATIVE_INCLUDE})
  # SWALLOW_UNTHROWABLE: while a worker is being terminated, napi_throw fails; without this
  # node-addon-api rethrows that as a C++ exception nothing catches and the process aborts.
  target_compile_definitions(${name} PRIVATE NAPI_VERSION=${LUAIPC_NAPI_VERSION} NAPI_CPP_EXCEPTIONS
    NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS NODE_ADDON_API_DISABLE_DEPRECATED)
  if(LUAIPC_PORTABLE)
    target_compile_definitions(${name} PRIVATE LUAIPC_PORTABLE=1)
  endif()
  if(LUAIPC_SYMVER_HEADER)
    target_compile_options(${name} PRIVATE -include "${LUAIPC_SYMVER_HEADER}")
  endif()
  if(MSVC)
    target_compile_options(${name} PRIVATE /W4 /WX /EHsc)
  else()
    target_compile_options(${name} PRIVATE -Wall -Wextra -Werror)
    if(LUAIPC_PREBUILD)
      target_compile_options(${name} PRIVATE -Os -ffunction-sections -fdata-sections)
      target_link_options(${name} PRIVATE -Wl,--gc-sections -s)
    endif()
  endif()
  if(MINGW)
    # One self-contained .node: no libstdc++/libgcc/winpthread DLLs to ship beside it.
    target_link_options(${name} PRIVATE -static -static-libgcc -static-libstdc++)
    target_compile_definitions(${name} PRIVATE WIN32_LEAN_AND_MEAN NOMINMAX _WIN32_WINNT=0x0A00)
  endif()
  target_link_libraries(${name} PRIVATE ${CMAKE_JS_LIB} Threads::Threads ${CMAKE_DL_LIBS})
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Before glibc 2.34, shm_open and shm_unlink live in librt, which Node does not load: a
    # missing librt is a symbol lookup error that kills the process at the first call. (Newer
    # glibc and musl ship an empty librt.a, so naming it costs nothing there.)
    target_link_libraries(${name} PRIVATE rt)
  endif()
  if(LUAIPC_COMPAT_GLIBC)
    # A prebuild is linked against a newer glibc, whose libpthread, libdl and librt are empty
    # stubs reachable only as .a archives: -pthread, -ldl and -lrt above name nothing. On the
    # old systems it runs on, those libraries hold sem_*, pthread_*, dl* and shm_*, so the
    # prebuild names their runtime files itself instead of trusting the host process to have
    # loaded them (Node loads libpthread and libdl, but not librt).
    target_link_libraries(${name} PRIVATE "-Wl,--push-state,--no-as-needed"
      "-l:libpthread.so.0" "-l:libdl.so.2" "-l:librt.so.1" "-Wl,--pop-state")
  endif()
  if(MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
  endif()
endfunction()
