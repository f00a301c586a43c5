import sys; exec(open('tests/fuzz/seeds/native.py').read())
d='tests/fuzz/corpus/queues'

m=mp
write(d,'send-ready-ack',[(0,['SEND','a','jobs',m({'reply':True}),'one']),(2,['READY','w1',m({'queues':['jobs'],'prefetch':2})]),(2,['ACK','w1',0,'ONE']),(0,['STATS','s'])])
write(d,'nack-fail',[(0,['SEND','a','jobs','','one']),(0,['SEND','b','jobs',m({'priority':3,'ack-timeout':100}),'two']),(2,['READY','w1',m({'queues':['jobs']})]),(2,['NACK','w1',2]),(3,['READY','w2',m({'queues':['jobs'],'prefetch':3})]),(3,['FAIL','w2',4,'bad']),(2,['BYE','w1'])])
write(d,'call-scatter',[(2,['READY','w',m({'commands':['add']})]),(3,['READY','v',m({'commands':['add']})]),(1,['CALL','c',m({'scatter':True,'timeout':50}),'add/1/2']),(2,['ACK','w',1,'3']),(3,['ACK','v',2]),(1,['GET','g',0])])
write(d,'errors',[(0,['FOO','r0']),(0,['SEND','r1','jobs']),(0,['SEND','r1','bad name','','x']),(0,['SEND','r1','jobs','\x81','x']),(0,['GET','r2','999']),(2,['ACK','w1','1']),(0,['SEND','','jobs','','quiet']),(0,['SEND','x'*20,'jobs','','long']),(2,['PING','w9']),(3,['READY','w',m({'queues':['a','a']})])])
write(d,'limits',[(0,['SEND',str(i),'q%d'%(i%4),'','p']) for i in range(10)]+[(2,['READY','w%d'%i,m({'queues':['q0','q1','q2','q3']})]) for i in range(4)])
sr=lambda *ps: b''.join(len(p).to_bytes(4,'big')+p for p in ps)
write(d,'v2-sends',[(0,['SENDS','a','jobs',m({'reply':True}),sr(b'one',b'',b'x'*70,b'four')]),(0,['SENDS','b','jobs','',sr(b'five')[:-1]]),(1,['SENDS','','jobs','',sr(b'six')]),(2,['READY','w1',m({'queues':['jobs'],'prefetch':3,'version':2})]),(2,['ACKS','w1',3]),(3,['READY','w2',m({'queues':['jobs'],'prefetch':2})]),(3,['ACK','w2',4,'R']),(0,['STATS','s'])])
write(d,'v2-batch',[(0,['SEND','a','jobs',m({'reply':True}),'one']),(0,['SEND','b','jobs','','two']),(2,['READY','w1',m({'queues':['jobs'],'prefetch':2,'version':2})]),(2,['ACKS','w1',3]),(2,['ACK','w1',4]),(2,['ACKS','w1',5]),(0,['STATS','s'])])
