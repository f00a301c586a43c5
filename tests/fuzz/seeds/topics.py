import sys; exec(open('tests/fuzz/seeds/native.py').read())
d='tests/fuzz/corpus/topics'
write(d,'subscribe-publish',[(2,['\x01weather.']),(0,['weather.paris','sunny']),(0,['news','x']),(3,['\x01']),(1,['weather.oslo','snow']),(2,['\x00weather.']),(0,['weather.rome','rain'])])
write(d,'malformed',[(0,['only-topic']),(0,['t','a','b']),(1,['a-topic-longer-than-sixteen','x']),(2,['\x02bad']),(3,['']),(2,['\x01a','\x01b']),(3,['\x00never'])])
write(d,'many-topics',[(2,['\x01'])]+[(i%2,['t%d'%i,'p']) for i in range(8)]+[(3,['\x01t1']),(3,['\x01t1']),(0,['t1','again']),(3,['\x00t1'])])
write(d,'gateway-barrier',[(2,['\x01$zgate.']),(0,['$zgate.gateway.barrier','1']),(3,['\x01chat.']),(1,['chat.room1','{"a":1}']),(3,['\x00chat.'])])
