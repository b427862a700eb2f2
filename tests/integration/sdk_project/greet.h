/* The test rewrites this header to check that the plugin is rebuilt. */
#define GREETING "hello "
