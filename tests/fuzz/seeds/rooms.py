import sys; exec(open('tests/fuzz/seeds/native.py').read())
d='tests/fuzz/corpus/rooms'
m=mp
write(d,'hello-join-send-ack',[(0,['HELLO','h']),(0,['JOIN','j',0,'lobby']),(1,['SEND','s','lobby','0','hi']),(0,['ACK','a',0,'lobby',1]),(1,['PEEK','p','lobby']),(1,['STATE','t','lobby'])])
write(d,'async-oob-leave',[(0,['HELLO','h']),(1,['HELLO','h2']),(0,['JOIN','j',0,'r','sync']),(1,['JOIN','j',1,'r','async']),(2,['OOB','o','r','boo']),(2,['SEND','s','r','5','x']),(2,['SEND','s2','r','-3','y']),(0,['LEAVE','l',0,'r']),(1,['BYE','b',1]),(2,['METRICS','m','2'])])
write(d,'room-options',[(2,['ROOM','o','r',m({'hold':True,'ack-timeout':100,'priority-order':'lowest-first'})]),(2,['SEND','s','r','1','a']),(2,['SEND','s','r','2','b']),(2,['ROOM','o','r',m({'priority-order':'highest-first'})]),(0,['HELLO','h']),(0,['JOIN','j',0,'r']),(0,['ACK','a',0,'r',1]),(2,['PEEK','p','r','1','1'])])
write(d,'errors',[(0,['FOO','r0']),(0,['JOIN','j','nobody','r']),(0,['SEND','s','r','x1','p']),(0,['PEEK','p','r','-1']),(0,['ROOM','o','r','\x81']),(0,['HELLO','x'*20]),(0,['ACK','a','c','r','t']),(0,['PING']),(0,['JOIN','','c','r','neither'])])
write(d,'limits',[(i%3,['HELLO','h%d'%i]) for i in range(6)]+[(0,['JOIN','j',i%4,'room%d'%i]) for i in range(6)]+[(1,['SEND','s','q','1','p']) for i in range(6)])
