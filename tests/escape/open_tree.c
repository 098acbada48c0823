/* escape open_tree: open_tree(2): clone a mount, the new API's bind. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("open_tree", EPERM, SYS_open_tree, -100 /* AT_FDCWD */, "/",
	       1 /* OPEN_TREE_CLONE */);
}
