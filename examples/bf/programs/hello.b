hello: prints Hello World! and a newline

set up four cells from a loop that runs eight times
 cell 1 gets 9 x 8 = 72   cell 2 gets 12 x 8 = 96
 cell 3 gets 4 x 8 = 32   cell 4 gets 1 x 8 = 8
++++++++[>+++++++++>++++++++++++>++++>+<<<<-]

>.                        H  72
>+++++.                   e  101
+++++++..                 ll 108
+++.                      o  111
>.                        space 32
<<+++++++++++++++.        W  87
>.                        o  111
+++.                      r  114
------.                   l  108
--------.                 d  100
>+.                       !  33
>++.                      newline 10
