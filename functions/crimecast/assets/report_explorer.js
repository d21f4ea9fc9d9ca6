(function(){
const P = JSON.parse(document.getElementById('fc-data').textContent);
const dSel = document.getElementById('fc-district'), cSel = document.getElementById('fc-category');
function opt(sel, values, allLabel){ const o=document.createElement('option'); o.value='*'; o.textContent=allLabel;
  sel.appendChild(o); values.forEach(v=>{const e=document.createElement('option'); e.value=v; e.textContent=v;
  sel.appendChild(e);}); }
opt(dSel, P.districts, 'All districts (sum)'); opt(cSel, P.categories, 'All categories (sum)');
dSel.value = P.districts[0]; cSel.value = P.categories[0];
function pick(){ const d=dSel.value, c=cSel.value;
  const keys = Object.keys(P.series).filter(k=>{const [kd,kc]=k.split('|');
    return (d==='*'||kd===d)&&(c==='*'||kc===c);});
  return keys; }
function sum(keys, field, n){ const out=new Array(n).fill(null);
  keys.forEach(k=>{ const a=P.series[k][field]; if(!a) return;
    a.forEach((v,i)=>{ if(v!==null) out[i]=(out[i]||0)+v; }); });
  return out.map(v=>v===null?null:Math.round(v*100)/100); }
function draw(){ const keys=pick(); const single = keys.length===1; const traces=[];
  const nf=P.fc_dates.length, nh=P.hist_dates.length;
  if (P.intervals && single){ const s=P.series[keys[0]];
    traces.push({x:P.fc_dates, y:s.hi95, mode:'lines', line:{width:0}, showlegend:false, hoverinfo:'skip'});
    traces.push({x:P.fc_dates, y:s.lo95, mode:'lines', line:{width:0}, fill:'tonexty',
      fillcolor:'rgba(38,128,194,0.15)', name:'95 % interval'});
    traces.push({x:P.fc_dates, y:s.hi80, mode:'lines', line:{width:0}, showlegend:false, hoverinfo:'skip'});
    traces.push({x:P.fc_dates, y:s.lo80, mode:'lines', line:{width:0}, fill:'tonexty',
      fillcolor:'rgba(38,128,194,0.35)', name:'80 % interval'});
  }
  if (nh) traces.push({x:P.hist_dates, y:sum(keys,'hist',nh), mode:'lines', name:'recorded',
    line:{color:'#52606d', width:1}});
  traces.push({x:P.fc_dates, y:sum(keys,'y_pred',nf), mode:'lines+markers', name:'forecast',
    line:{color:'#0b69a3', width:2}, marker:{size:4}});
  let note = '';
  if (!P.intervals) note = 'No prediction intervals in this forecast file: point forecast only.';
  else if (!single) note = 'Intervals are shown for one district × category at a time '
    + '(they do not add up across series).';
  document.getElementById('fc-note').textContent = note;
  const title = (dSel.value==='*'?'all districts':dSel.value)+' · '+(cSel.value==='*'?'all categories':cSel.value);
  Plotly.react('fig-forecast', traces, {template:'plotly_white', height:430, title:{text:title},
    margin:{l:60,r:20,t:50,b:50}, yaxis:{title:{text:'recorded incidents per day'}, rangemode:'tozero'},
    legend:{orientation:'h', y:-0.15}}, {displaylogo:false, responsive:true});
}
dSel.addEventListener('change', draw); cSel.addEventListener('change', draw); draw();
})();
